#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "attendance/v1/events.pb.h"
#include "ledger/types.h"

namespace attendance::ledger {

// A half-term resolved to day numbers.
struct HalfTermSpan {
  int academic_year = 0;
  std::string term;       // "Autumn"
  std::string half_term;  // "Autumn 1"
  Day first = 0;
  Day last = 0;
};

// A school's calendars, one per academic year, as set by SchoolCalendarSet
// events. Pure value type: no I/O. Not thread-safe for concurrent writes.
class SchoolCalendar {
 public:
  // Replaces the calendar of `calendar.academic_year()`. The caller has
  // already checked it with ValidateCalendar.
  void Set(const v1::SchoolCalendarSet& calendar);

  bool HasYear(int academic_year) const { return years_.count(academic_year) != 0; }
  // A weekday inside one of the year's half-terms (closures not considered).
  bool IsTermDay(Day day) const;
  // A term day that is not a whole-school, whole-day closure: the days that
  // "school days" and "school weeks" count.
  bool IsSchoolDay(Day day) const;
  // Whether a planned closure covers this session for this year group.
  bool IsClosed(Day day, v1::Session session, int year_group) const;
  // The half-term containing `day`, or nullptr.
  const HalfTermSpan* HalfTermOf(Day day) const;
  // Every half-term of an academic year, in date order (empty if unset).
  std::vector<HalfTermSpan> HalfTerms(int academic_year) const;

 private:
  struct ClosureSpan {
    v1::Session session;           // SESSION_UNSPECIFIED = whole day
    std::vector<int> year_groups;  // empty = whole school
  };
  struct Year {
    std::vector<HalfTermSpan> half_terms;
    std::multimap<Day, ClosureSpan> closures;
  };
  const Year* YearOf(Day day) const;
  std::map<int, Year> years_;
};

// INVALID_ARGUMENT naming the field and value if the calendar is malformed:
// bad dates, a half-term outside the academic year, overlapping or inverted
// half-terms, closures outside every half-term.
absl::Status ValidateCalendar(const v1::SchoolCalendarSet& calendar, absl::string_view field);

}  // namespace attendance::ledger
