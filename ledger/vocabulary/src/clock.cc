#include "ledger/clock.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace attendance::ledger {
namespace {

struct Zone {
  absl::TimeZone tz;
  bool loaded = false;
};

const Zone& SchoolZone() {
  static const Zone zone = [] {
    Zone z;
    z.loaded = absl::LoadTimeZone(kSchoolTimeZone, &z.tz);
    return z;
  }();
  return zone;
}

std::int64_t SystemNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

absl::Status CheckSchoolTimeZone() {
  if (SchoolZone().loaded) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("time zone ", kSchoolTimeZone,
                   " is not in the system's time-zone database (install Debian's tzdata)"));
}

LocalTime SchoolLocalTime(std::int64_t micros_since_epoch) {
  const absl::CivilSecond local =
      absl::ToCivilSecond(absl::FromUnixMicros(micros_since_epoch), SchoolZone().tz);
  return {DayFromCivil(static_cast<int>(local.year()), static_cast<unsigned>(local.month()),
                       static_cast<unsigned>(local.day())),
          local.hour() * 60 + local.minute()};
}

Day SchoolLocalDay(std::int64_t micros_since_epoch) {
  return SchoolLocalTime(micros_since_epoch).day;
}

Clock::Clock() : now_us_(SystemNowUs) {}

Clock::Clock(std::function<std::int64_t()> now_us)
    : now_us_(now_us ? std::move(now_us) : std::function<std::int64_t()>(SystemNowUs)) {}

Clock Clock::Fixed(std::int64_t micros_since_epoch) {
  return Clock([micros_since_epoch] { return micros_since_epoch; });
}

}  // namespace attendance::ledger
