#include "projections/uk_time.h"

namespace attendance::projections {
namespace {

constexpr std::int64_t kMicrosPerDay = 86'400'000'000;
constexpr std::int64_t kMicrosPerHour = 3'600'000'000;

ledger::Day LastSunday(int year, unsigned month) {
  const ledger::Day last = ledger::DayFromCivil(year, month, 31);  // March and October have 31 days
  return last - ledger::Weekday(last + 1);                  // Weekday: Monday = 0
}

}  // namespace

ledger::Day UkLocalDay(std::int64_t us) {
  std::int64_t day = us / kMicrosPerDay;
  if (us % kMicrosPerDay < 0) --day;
  // The ledger stamps events with its clock, but a fold must not overflow on
  // whatever an event says (found by tests/fuzz event_fold): instants more
  // than 8,000 years from 1970 are taken as UTC, where the BST rule's
  // arithmetic would overflow.
  constexpr std::int64_t kMaxMicros = std::int64_t{8000} * 366 * kMicrosPerDay;
  if (us > kMaxMicros || us < -kMaxMicros) return static_cast<ledger::Day>(day);
  const int year = ledger::CalendarYearOf(static_cast<ledger::Day>(day));
  const std::int64_t bst_start = LastSunday(year, 3) * kMicrosPerDay + kMicrosPerHour;
  const std::int64_t bst_end = LastSunday(year, 10) * kMicrosPerDay + kMicrosPerHour;
  if (us >= bst_start && us < bst_end) us += kMicrosPerHour;
  day = us / kMicrosPerDay;
  if (us % kMicrosPerDay < 0) --day;
  return static_cast<ledger::Day>(day);
}

}  // namespace attendance::projections
