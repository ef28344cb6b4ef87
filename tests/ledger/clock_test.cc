// The one clock and school-local time in England, from the tz database.
#include "ledger/clock.h"

#include <catch2/catch.hpp>

namespace attendance::ledger {
namespace {

std::int64_t Utc(const char* date, int hour, int minute) {
  return (static_cast<std::int64_t>(*ParseDate(date)) * 86400 + hour * 3600 + minute * 60) *
         1'000'000;
}

std::string Local(std::int64_t us) {
  const LocalTime t = SchoolLocalTime(us);
  char hhmm[16];
  std::snprintf(hhmm, sizeof hhmm, "%02d:%02d", t.minute_of_day / 60, t.minute_of_day % 60);
  return FormatDate(t.day) + " " + hhmm;
}

TEST_CASE("the schools' zone, Europe/London, is in the system's tz database", "[ledger][clock]") {
  CHECK(CheckSchoolTimeZone().ok());
}

TEST_CASE("school-local time is GMT in winter and BST in summer", "[ledger][clock]") {
  CHECK(Local(Utc("2025-12-10", 23, 30)) == "2025-12-10 23:30");  // GMT
  CHECK(Local(Utc("2025-06-10", 23, 30)) == "2025-06-11 00:30");  // BST: 00:30 the next day
  CHECK(Local(Utc("2025-06-10", 22, 59)) == "2025-06-10 23:59");
  // BST starts 2025-03-30 01:00 UTC and ends 2025-10-26 01:00 UTC.
  CHECK(Local(Utc("2025-03-30", 0, 59)) == "2025-03-30 00:59");
  CHECK(Local(Utc("2025-03-30", 1, 0)) == "2025-03-30 02:00");
  CHECK(Local(Utc("2025-03-29", 23, 30)) == "2025-03-29 23:30");
  CHECK(Local(Utc("2025-03-30", 23, 30)) == "2025-03-31 00:30");
  CHECK(Local(Utc("2025-10-25", 23, 30)) == "2025-10-26 00:30");
  CHECK(Local(Utc("2025-10-26", 0, 59)) == "2025-10-26 01:59");
  CHECK(Local(Utc("2025-10-26", 1, 0)) == "2025-10-26 01:00");
  CHECK(Local(Utc("2025-10-26", 23, 30)) == "2025-10-26 23:30");
  CHECK(Local(Utc("2024-03-31", 23, 30)) == "2024-04-01 00:30");  // 2024: last Sunday is the 31st
  // British Standard Time, 1968-71: UTC+1 all year, which no hand-written
  // "last Sunday of March" rule knows.
  CHECK(Local(-3'600'000'000) == "1970-01-01 00:00");
  CHECK(Local(Utc("1972-01-01", 12, 0)) == "1972-01-01 12:00");
  CHECK(SchoolLocalDay(Utc("2025-09-08", 23, 30)) == *ParseDate("2025-09-09"));
}

TEST_CASE("a clock is the system's unless a test gives it a time", "[ledger][clock]") {
  const Clock fixed = Clock::Fixed(Utc("2025-09-08", 23, 30));
  CHECK(fixed.NowUs() == Utc("2025-09-08", 23, 30));
  CHECK(FormatDate(fixed.Today()) == "2025-09-09");
  CHECK(fixed.Local().minute_of_day == 30);
  // The system clock: after 2025, and its date is the local date of now.
  const Clock system;
  CHECK(system.NowUs() > Utc("2025-01-01", 0, 0));
  CHECK(Clock(nullptr).NowUs() > Utc("2025-01-01", 0, 0));
}

}  // namespace
}  // namespace attendance::ledger
