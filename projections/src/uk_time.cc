#include "projections/uk_time.h"

namespace attendance::projections {
namespace {

constexpr std::int64_t kMicrosPerDay = 86'400'000'000;
constexpr std::int64_t kMicrosPerHour = 3'600'000'000;

// Howard Hinnant's days_from_civil (also in ledger/src/types.cc, which does
// not export it).
ledger::Day DaysFromCivil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int>(doe) - 719468;
}

int YearOf(ledger::Day day) {
  // Good enough for the year: civil_from_days, year part only.
  const int z = day + 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return static_cast<int>(yoe) + era * 400 + (m <= 2);
}

ledger::Day LastSunday(int year, unsigned month) {
  const ledger::Day last = DaysFromCivil(year, month, 31);  // March and October have 31 days
  return last - ledger::Weekday(last + 1);                  // Weekday: Monday = 0
}

}  // namespace

ledger::Day UkLocalDay(std::int64_t us) {
  std::int64_t day = us / kMicrosPerDay;
  if (us % kMicrosPerDay < 0) --day;
  const int year = YearOf(static_cast<ledger::Day>(day));
  const std::int64_t bst_start = LastSunday(year, 3) * kMicrosPerDay + kMicrosPerHour;
  const std::int64_t bst_end = LastSunday(year, 10) * kMicrosPerDay + kMicrosPerHour;
  if (us >= bst_start && us < bst_end) us += kMicrosPerHour;
  day = us / kMicrosPerDay;
  if (us % kMicrosPerDay < 0) --day;
  return static_cast<ledger::Day>(day);
}

}  // namespace attendance::projections
