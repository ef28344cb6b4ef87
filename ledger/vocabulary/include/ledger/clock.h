#pragma once

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "ledger/types.h"

namespace attendance::ledger {

// The zone of every school the ledger serves: England, Europe/London (GMT in
// winter, BST in summer), read from the system's time-zone database
// (Debian's tzdata), never from a rule written here.
inline constexpr char kSchoolTimeZone[] = "Europe/London";

// A civil date and time of day in the schools' zone.
struct LocalTime {
  Day day = 0;
  int minute_of_day = 0;  // 0..1439
};

// OK if the schools' zone loads; FAILED_PRECONDITION naming it otherwise
// (the conversions below would then fall back to UTC, so a server checks
// this before it serves).
absl::Status CheckSchoolTimeZone();

// The local date and time in England of an instant, microseconds since the
// Unix epoch (UTC).
LocalTime SchoolLocalTime(std::int64_t micros_since_epoch);
Day SchoolLocalDay(std::int64_t micros_since_epoch);

// The one source of "now" for the ledger, the projections, the demo and
// ledgerd: validation's "today", recorded_at, the as-of date of a query
// without one. A cheap value type; thread-safe if its function is.
class Clock {
 public:
  // The system clock.
  Clock();
  // A clock reading `now_us` (microseconds since the epoch), for tests.
  explicit Clock(std::function<std::int64_t()> now_us);
  static Clock Fixed(std::int64_t micros_since_epoch);

  std::int64_t NowUs() const { return now_us_(); }
  LocalTime Local() const { return SchoolLocalTime(NowUs()); }
  // The school-local date.
  Day Today() const { return Local().day; }

 private:
  std::function<std::int64_t()> now_us_;
};

}  // namespace attendance::ledger
