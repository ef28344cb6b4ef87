#pragma once

// A deliberately naive model of the attendance figures, written from
// ../shared/domain.md and issue 3 without any of the projection's data
// structures or code paths: it keeps every event and re-reads all of them
// for every question. Property tests compare the projection against it.
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "attendance/v1/events.pb.h"
#include "attendance/v1/projections_service.pb.h"
#include "ledger/calendar.h"
#include "ledger/codes.h"
#include "ledger/types.h"

namespace attendance::projections::testing {

struct BruteCounts {
  int possible = 0, attended = 0, authorised = 0, unauthorised = 0, late_l = 0, late_u = 0;
  std::map<std::string, int> per_code;
  bool pa = false, sa = false;
};

class BruteForce {
 public:
  // Keeps the marks by pupil (in log order) and the other events apart, only
  // so that the tests run in seconds; every query still re-reads them all.
  explicit BruteForce(const std::vector<v1::EventEnvelope>& events) {
    for (const auto& e : events) {
      if (e.has_mark_recorded()) {
        marks_[e.mark_recorded().pupil_id()].push_back(e);
      } else if (e.has_mark_amended()) {
        marks_[e.mark_amended().pupil_id()].push_back(e);
      } else {
        events_.push_back(e);
      }
    }
  }

  // The UK date of a test event: the tests record at noon UTC, so the UTC
  // date is the UK date (this model does not reuse UkLocalDay).
  static ledger::Day RecordedDay(const v1::EventEnvelope& e) {
    std::int64_t us = e.recorded_at_us();
    if (e.has_mark_amended() && e.mark_amended().amended_at_us() != 0) {
      us = e.mark_amended().amended_at_us();
    }
    return static_cast<ledger::Day>(us / 86'400'000'000LL);
  }

  ledger::SchoolCalendar CalendarAsOf(ledger::Day as_of) const {
    ledger::SchoolCalendar c;
    for (const auto& e : events_) {
      if (e.has_school_calendar_set() && RecordedDay(e) <= as_of) c.Set(e.school_calendar_set());
    }
    return c;
  }

  v1::SchoolSettings SettingsAsOf(ledger::Day as_of) const {
    v1::SchoolSettings s;
    for (const auto& e : events_) {
      if (e.has_school_settings_set() && RecordedDay(e) <= as_of) {
        s = e.school_settings_set().settings();
      }
    }
    return s;
  }

  // The window [first, last] (first > last = empty) by a different route
  // from projections/windows.cc: list every school day forwards, group them
  // by their week's Monday, take the last N groups.
  std::pair<ledger::Day, ledger::Day> Window(const v1::Window& w, ledger::Day as_of) const {
    const ledger::SchoolCalendar cal = CalendarAsOf(as_of);
    const int year = ledger::AcademicYearOf(as_of);
    switch (w.kind()) {
      case v1::PREVIOUS_ACADEMIC_YEAR: {
        const int y = year - static_cast<int>(w.years_back());
        return {ledger::AcademicYearStart(y), ledger::AcademicYearStart(y + 1) - 1};
      }
      case v1::CURRENT_HALF_TERM:
      case v1::CURRENT_TERM: {
        std::optional<ledger::HalfTermSpan> current;
        for (const auto& h : cal.HalfTerms(year)) {
          if (h.first <= as_of) current = h;
        }
        if (!current) return {1, 0};
        ledger::Day first = current->first, last = current->last;
        if (w.kind() == v1::CURRENT_TERM) {
          for (const auto& h : cal.HalfTerms(year)) {
            if (h.term == current->term)
              first = std::min(first, h.first), last = std::max(last, h.last);
          }
        }
        return {first, std::min(last, as_of)};
      }
      case v1::ROLLING_SCHOOL_WEEKS: {
        std::vector<std::pair<ledger::Day, ledger::Day>> weeks;  // (monday, first school day)
        for (ledger::Day d = as_of - 731; d <= as_of; ++d) {
          if (!cal.IsSchoolDay(d)) continue;
          const ledger::Day monday = d - ledger::Weekday(d);
          if (weeks.empty() || weeks.back().first != monday) weeks.emplace_back(monday, d);
        }
        if (weeks.empty()) return {1, 0};
        const std::size_t n = std::min<std::size_t>(w.weeks(), weeks.size());
        return {weeks[weeks.size() - n].second, as_of};
      }
      default:
        return {ledger::AcademicYearStart(year), as_of};
    }
  }

  BruteCounts Count(const std::string& pupil, ledger::Day first, ledger::Day last,
                    ledger::Day as_of) const {
    std::map<std::pair<ledger::Day, int>, std::string> code;
    static const std::vector<v1::EventEnvelope> kNone;
    auto it = marks_.find(pupil);
    for (const auto& e : it == marks_.end() ? kNone : it->second) {
      if (RecordedDay(e) > as_of) continue;
      std::string id, date, c;
      int session = 0;
      if (e.has_mark_recorded()) {
        id = e.mark_recorded().pupil_id(), date = e.mark_recorded().date();
        c = e.mark_recorded().code(), session = e.mark_recorded().session();
      } else if (e.has_mark_amended()) {
        id = e.mark_amended().pupil_id(), date = e.mark_amended().date();
        c = e.mark_amended().amended_code(), session = e.mark_amended().session();
      } else {
        continue;
      }
      const ledger::Day day = *ledger::ParseDate(date);
      if (id == pupil && day >= first && day <= last) code[{day, session}] = c;
    }
    BruteCounts b;
    for (const auto& [key, c] : code) {
      const ledger::CodeInfo* info = ledger::LookupCode(c, key.first);
      if (info == nullptr) continue;
      ++b.per_code[c];
      if (!info->possible()) continue;
      ++b.possible;
      if (info->attended()) ++b.attended;
      if (info->category == ledger::CodeCategory::kAuthorisedAbsence) ++b.authorised;
      if (info->category == ledger::CodeCategory::kUnauthorisedAbsence) ++b.unauthorised;
      if (c == "L") ++b.late_l;
      if (c == "U") ++b.late_u;
    }
    const v1::SchoolSettings s = SettingsAsOf(as_of);
    const bool counts = b.possible > 0 && b.possible >= static_cast<int>(s.min_possible_sessions());
    // In attendance terms: PA <=> attendance <= 90% (DfE) or < 90% (seeds).
    const long att = b.attended, pos = b.possible;
    b.pa = counts && (s.persistent_absence_exclusive() ? 10 * att < 9 * pos : 10 * att <= 9 * pos);
    b.sa = counts && (s.severe_absence_exclusive() ? 2 * att < pos : 2 * att <= pos);
    return b;
  }

  // Enrolment facts known by `as_of`, for a pupil enrolled at most once.
  struct Roll {
    bool known = false;
    ledger::Day from = 0;
    std::optional<ledger::Day> last;
  };
  Roll RollOf(const std::string& pupil, ledger::Day as_of) const {
    Roll r;
    for (const auto& e : events_) {
      if (RecordedDay(e) > as_of) continue;
      if (e.has_pupil_enrolled() && e.pupil_enrolled().pupil().pupil_id() == pupil) {
        r.known = true;
        r.from = *ledger::ParseDate(e.pupil_enrolled().on_roll_from());
      }
      if (e.has_pupil_left_roll() && e.pupil_left_roll().pupil_id() == pupil) {
        r.last = *ledger::ParseDate(e.pupil_left_roll().last_day_on_roll());
      }
    }
    return r;
  }

  // Details in force on `day`: of the versions known by `as_of`, the one
  // with the latest effective date on or before `day` (later in the log wins
  // a tie); before any, the earliest.
  v1::Pupil DetailsOf(const std::string& pupil, ledger::Day day, ledger::Day as_of) const {
    std::optional<std::pair<ledger::Day, v1::Pupil>> best, earliest;
    for (const auto& e : events_) {
      if (RecordedDay(e) > as_of) continue;
      const v1::Pupil* p = nullptr;
      std::string from;
      if (e.has_pupil_enrolled())
        p = &e.pupil_enrolled().pupil(), from = e.pupil_enrolled().on_roll_from();
      if (e.has_pupil_updated())
        p = &e.pupil_updated().pupil(), from = e.pupil_updated().effective_from();
      if (p == nullptr || p->pupil_id() != pupil) continue;
      const ledger::Day eff = *ledger::ParseDate(from);
      if (eff <= day && (!best || eff >= best->first)) best = {eff, *p};
      if (!earliest || eff < earliest->first) earliest = {eff, *p};
    }
    if (best) return best->second;
    return earliest ? earliest->second : v1::Pupil();
  }

 private:
  std::map<std::string, std::vector<v1::EventEnvelope>> marks_;
  std::vector<v1::EventEnvelope> events_;
};

}  // namespace attendance::projections::testing
