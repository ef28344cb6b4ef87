#include "projections/code_table.h"

#include <catch2/catch.hpp>

#include "ledger/codes.h"
#include "projections/figures.h"

namespace attendance::projections {
namespace {

TEST_CASE("every ledger code has an index with the ledger's category", "[projections]") {
  const ledger::Day cut = ledger::CodeSet2024Start();
  int known = 0;
  for (int i = 1; i < kNumCodes; ++i) {
    const auto index = static_cast<CodeIndex>(i);
    const std::string_view name = CodeName(index);
    REQUIRE(CodeIndexOf(name) == index);
    REQUIRE(ledger::IsKnownCode(name));
    for (ledger::Day day : {cut - 1, cut}) {
      const ledger::CodeInfo* info = ledger::LookupCode(name, day);
      CHECK(ValidOn(index, day) == (info != nullptr));
      if (info != nullptr) CHECK(CategoryOf(index) == info->category);
    }
    ++known;
  }
  CHECK(known == kNumCodes - 1);
  CHECK(CodeIndexOf("") == 0);
  CHECK(CodeIndexOf("A") == 0);
  CHECK(CodeIndexOf("C3") == 0);
  CHECK(CodeIndexOf("Y12") == 0);
  CHECK_FALSE(ValidOn(CodeIndexOf("H"), cut));
  CHECK(ValidOn(CodeIndexOf("H"), cut - 1));
  CHECK_FALSE(ValidOn(CodeIndexOf("J1"), cut - 1));
}

TEST_CASE("PA and SA compare integers at the exact boundaries", "[projections]") {
  AttendanceCounts c;
  c.possible = 140;
  c.attended = 126;
  c.authorised = 8;
  c.unauthorised = 6;
  const AbsenceThresholds dfe{0, false, false};
  const AbsenceThresholds seeds{0, true, true};
  const AbsenceThresholds seed_004{0, true, false};  // PA "< 90", SA "50% and below"
  CHECK(IsPersistentAbsence(c, dfe));                // absence exactly 10.0%
  CHECK_FALSE(IsPersistentAbsence(c, seeds));
  CHECK_FALSE(IsPersistentAbsence(c, AbsenceThresholds{141, false, false}));
  c.attended = 70;
  c.authorised = 70;
  c.unauthorised = 0;
  CHECK(IsSevereAbsence(c, dfe));  // exactly 50.0%
  CHECK_FALSE(IsSevereAbsence(c, seeds));
  CHECK(IsSevereAbsence(c, seed_004));
  CHECK(IsPersistentAbsence(c, seed_004));
  CHECK_FALSE(IsPersistentAbsence(AttendanceCounts{}, dfe));
}

}  // namespace
}  // namespace attendance::projections
