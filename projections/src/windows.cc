#include "projections/windows.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace attendance::projections {
namespace {

using ledger::Day;

// How far back a rolling window may reach: two academic years is more than
// any N <= 52 school weeks needs, and bounds the cost on sparse calendars.
constexpr Day kMaxRollingLookBack = 2 * 366;

ResolvedWindow RollingWeeks(const ledger::SchoolCalendar& calendar, const WindowSpec& spec,
                            Day as_of) {
  ResolvedWindow w;
  w.spec = spec;
  w.reaches_as_of = true;
  w.label = absl::StrCat("Last ", spec.weeks, " school weeks");
  std::uint32_t found = 0;
  Day first = 1;
  for (Day monday = as_of - ledger::Weekday(as_of);
       found < spec.weeks && monday > as_of - kMaxRollingLookBack; monday -= 7) {
    const Day end = std::min<Day>(monday + 6, as_of);
    for (Day d = monday; d <= end; ++d) {
      if (calendar.IsSchoolDay(d)) {
        first = d;
        ++found;
        break;
      }
    }
  }
  if (found > 0) {
    w.first = first;
    w.last = as_of;
  }
  return w;
}

// The half-term that contains `as_of` or, in a holiday, the last one that
// started before it in the same academic year.
const ledger::HalfTermSpan* CurrentHalfTerm(const std::vector<ledger::HalfTermSpan>& halves,
                                            Day as_of) {
  const ledger::HalfTermSpan* current = nullptr;
  for (const ledger::HalfTermSpan& h : halves) {
    if (h.first <= as_of) current = &h;
  }
  return current;
}

}  // namespace

std::string AcademicYearLabel(int academic_year) {
  const int next = (academic_year + 1) % 100;
  return absl::StrCat(academic_year, "-", next < 10 ? "0" : "", next);
}

absl::StatusOr<WindowSpec> WindowSpecFromProto(const v1::Window& window, const std::string& field) {
  WindowSpec spec;
  spec.kind = window.kind();
  switch (window.kind()) {
    case v1::WINDOW_KIND_UNSPECIFIED:
      spec.kind = v1::ACADEMIC_YEAR_TO_DATE;
      return spec;
    case v1::ACADEMIC_YEAR_TO_DATE:
    case v1::CURRENT_TERM:
    case v1::CURRENT_HALF_TERM:
      return spec;
    case v1::PREVIOUS_ACADEMIC_YEAR:
      if (window.years_back() < 1 || window.years_back() > kMaxYearsBack) {
        return absl::InvalidArgumentError(absl::StrCat(field, ".years_back: ", window.years_back(),
                                                       " is not in 1..", kMaxYearsBack));
      }
      spec.years_back = window.years_back();
      return spec;
    case v1::ROLLING_SCHOOL_WEEKS:
      if (window.weeks() < 1 || window.weeks() > kMaxRollingWeeks) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ".weeks: ", window.weeks(), " is not in 1..", kMaxRollingWeeks));
      }
      spec.weeks = window.weeks();
      return spec;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".kind: ", static_cast<int>(window.kind()), " is not a window kind"));
  }
}

std::vector<WindowSpec> ReportWindows(const std::vector<std::uint32_t>& rolling_weeks) {
  std::vector<WindowSpec> specs = {
      {v1::ACADEMIC_YEAR_TO_DATE, 0, 0}, {v1::CURRENT_TERM, 0, 0}, {v1::CURRENT_HALF_TERM, 0, 0}};
  for (std::uint32_t back = 1; back <= kMaxYearsBack; ++back) {
    specs.push_back({v1::PREVIOUS_ACADEMIC_YEAR, 0, back});
  }
  for (std::uint32_t weeks : rolling_weeks) {
    if (weeks >= 1 && weeks <= kMaxRollingWeeks)
      specs.push_back({v1::ROLLING_SCHOOL_WEEKS, weeks, 0});
  }
  return specs;
}

ResolvedWindow ResolveWindow(const ledger::SchoolCalendar& calendar, const WindowSpec& spec,
                             Day as_of) {
  const int year = ledger::AcademicYearOf(as_of);
  ResolvedWindow w;
  w.spec = spec;
  switch (spec.kind) {
    case v1::PREVIOUS_ACADEMIC_YEAR: {
      const int y = year - static_cast<int>(spec.years_back);
      w.first = ledger::AcademicYearStart(y);
      w.last = ledger::AcademicYearStart(y + 1) - 1;
      w.label = AcademicYearLabel(y);
      return w;
    }
    case v1::ROLLING_SCHOOL_WEEKS:
      return RollingWeeks(calendar, spec, as_of);
    case v1::CURRENT_TERM:
    case v1::CURRENT_HALF_TERM: {
      w.reaches_as_of = true;
      const std::vector<ledger::HalfTermSpan> halves = calendar.HalfTerms(year);
      const ledger::HalfTermSpan* half = CurrentHalfTerm(halves, as_of);
      if (half == nullptr) {
        w.label = spec.kind == v1::CURRENT_TERM ? "No term" : "No half-term";
        return w;
      }
      if (spec.kind == v1::CURRENT_HALF_TERM) {
        w.first = half->first;
        w.last = std::min(half->last, as_of);
        w.label = absl::StrCat(half->half_term, " ", AcademicYearLabel(year));
        return w;
      }
      w.first = half->first;
      w.last = std::min(half->last, as_of);
      for (const ledger::HalfTermSpan& h : halves) {
        if (h.term != half->term) continue;
        w.first = std::min(w.first, h.first);
        w.last = std::max(w.last, std::min(h.last, as_of));
      }
      w.label = absl::StrCat(half->term, " ", AcademicYearLabel(year));
      return w;
    }
    case v1::ACADEMIC_YEAR_TO_DATE:
    default:
      w.reaches_as_of = true;
      w.first = ledger::AcademicYearStart(year);
      w.last = as_of;
      w.label = absl::StrCat(AcademicYearLabel(year), " to date");
      return w;
  }
}

void WindowToProto(const ResolvedWindow& w, v1::Window* out) {
  out->set_kind(w.spec.kind);
  out->set_weeks(w.spec.weeks);
  out->set_years_back(w.spec.years_back);
  if (!w.empty()) {
    out->set_first_day(ledger::FormatDate(w.first));
    out->set_last_day(ledger::FormatDate(w.last));
  }
  out->set_label(w.label);
}

}  // namespace attendance::projections
