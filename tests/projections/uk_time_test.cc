#include "projections/uk_time.h"

#include <catch2/catch.hpp>

#include "ledger/types.h"

namespace attendance::projections {
namespace {

std::int64_t Utc(const char* date, int hour, int minute) {
  return (static_cast<std::int64_t>(*ledger::ParseDate(date)) * 86400 + hour * 3600 + minute * 60) *
         1'000'000;
}

std::string Local(std::int64_t us) { return ledger::FormatDate(UkLocalDay(us)); }

TEST_CASE("as-of dates are UK dates: GMT in winter, BST in summer", "[projections]") {
  CHECK(Local(Utc("2025-12-10", 23, 30)) == "2025-12-10");  // GMT
  CHECK(Local(Utc("2025-06-10", 23, 30)) == "2025-06-11");  // BST: 00:30 next day
  CHECK(Local(Utc("2025-06-10", 22, 59)) == "2025-06-10");
  // BST starts 2025-03-30 01:00 UTC and ends 2025-10-26 01:00 UTC.
  CHECK(Local(Utc("2025-03-29", 23, 30)) == "2025-03-29");
  CHECK(Local(Utc("2025-03-30", 23, 30)) == "2025-03-31");
  CHECK(Local(Utc("2025-10-25", 23, 30)) == "2025-10-26");
  CHECK(Local(Utc("2025-10-26", 23, 30)) == "2025-10-26");
  CHECK(Local(Utc("2024-03-31", 23, 30)) == "2024-04-01");  // 2024: last Sunday is the 31st
  CHECK(Local(-3'600'000'000) == "1969-12-31");
}

}  // namespace
}  // namespace attendance::projections
