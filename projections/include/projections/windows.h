#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attendance/v1/projections_service.pb.h"
#include "ledger/calendar.h"
#include "ledger/types.h"

namespace attendance::projections {

// Which window, before it is resolved against a calendar and a date.
struct WindowSpec {
  v1::WindowKind kind = v1::ACADEMIC_YEAR_TO_DATE;
  std::uint32_t weeks = 0;       // ROLLING_SCHOOL_WEEKS
  std::uint32_t years_back = 0;  // PREVIOUS_ACADEMIC_YEAR, 1..3
};

// A window as inclusive days [first, last], with last <= the as-of date.
// Empty (first > last) when the window has no days, e.g. the current term
// during the summer holiday before the calendar's first half-term.
struct ResolvedWindow {
  WindowSpec spec;
  ledger::Day first = 1;
  ledger::Day last = 0;
  std::string label;
  bool empty() const { return first > last; }
  // Whether the window runs up to the as-of date (the "current" windows):
  // cohorts for such a window hold the pupils on roll on that date.
  bool reaches_as_of = false;
};

inline constexpr std::uint32_t kMaxYearsBack = 3;
inline constexpr std::uint32_t kMaxRollingWeeks = 52;

// Checks a client's window; unspecified kind = academic year to date.
// INVALID_ARGUMENT naming `field` and the value.
absl::StatusOr<WindowSpec> WindowSpecFromProto(const v1::Window& window, const std::string& field);

// Every window a pupil report shows: year to date, current term, current
// half-term, the previous three academic years, and the rolling windows.
std::vector<WindowSpec> ReportWindows(const std::vector<std::uint32_t>& rolling_weeks);

// Resolves `spec` as it stood at the end of `as_of`.
//
// School weeks: a school week is a Monday-to-Sunday week with at least one
// school day (calendar.IsSchoolDay: weekends, holidays and whole-school
// closures do not count). The last N school weeks are the N most recent such
// weeks up to the one containing `as_of`, so holidays are skipped and the
// window may span terms and academic years; it starts on the first school
// day of the earliest of them and ends on `as_of`.
ResolvedWindow ResolveWindow(const ledger::SchoolCalendar& calendar, const WindowSpec& spec,
                             ledger::Day as_of);

void WindowToProto(const ResolvedWindow& window, v1::Window* out);

// "2025-26".
std::string AcademicYearLabel(int academic_year);

}  // namespace attendance::projections
