#include <catch2/catch.hpp>

#include "ledger/codes.h"
#include "ledger/types.h"

namespace attendance::ledger {
namespace {

TEST_CASE("dates round-trip and weekdays are right", "[ledger][dates]") {
  auto day = ParseDate("2025-09-08");
  REQUIRE(day);
  CHECK(FormatDate(*day) == "2025-09-08");
  CHECK(Weekday(*day) == 0);  // a Monday
  CHECK(Weekday(*ParseDate("2024-02-29")) == 3);
  CHECK(AcademicYearOf(*day) == 2025);
  CHECK(AcademicYearOf(*ParseDate("2026-07-31")) == 2025);
  CHECK(AcademicYearOf(*ParseDate("2026-08-01")) == 2026);
  CHECK_FALSE(ParseDate("2025-02-29"));
  CHECK_FALSE(ParseDate("2025-9-08"));
  CHECK_FALSE(ParseDate("2025-13-01"));
  CHECK_FALSE(ParseTimeOfDay("24:00"));
  CHECK(ParseTimeOfDay("09:25") == 9 * 60 + 25);
}

TEST_CASE("codes are versioned by session date", "[ledger][codes]") {
  const Day before = *ParseDate("2024-08-18");
  const Day after = *ParseDate("2024-08-19");
  CHECK(LookupCode("H", before) != nullptr);
  CHECK(LookupCode("H", after) == nullptr);
  CHECK(LookupCode("C1", before) == nullptr);
  CHECK(LookupCode("C1", after)->category == CodeCategory::kAuthorisedAbsence);
  // J was an educational activity; its successor J1 is an authorised absence.
  CHECK(LookupCode("J", before)->attended());
  CHECK_FALSE(LookupCode("J1", after)->attended());
  CHECK(LookupCode("J1", after)->possible());
  CHECK_FALSE(LookupCode("D", after)->possible());
  CHECK_FALSE(LookupCode("#", after)->possible());
  CHECK(LookupCode("L", after)->attended());
  CHECK(LookupCode("U", after)->category == CodeCategory::kUnauthorisedAbsence);
  CHECK(LookupCode("?", after) == nullptr);
}

}  // namespace
}  // namespace attendance::ledger
