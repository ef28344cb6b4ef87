#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "attendance/v1/events.pb.h"
#include "attendance/v1/feeds_service.pb.h"
#include "projections/attendance_state.h"
#include "projections/escalation.h"
#include "projections/windows.h"

namespace attendance::projections {

// The projection-changes feed as a pure fold: it keeps the attendance and
// escalation state of a few schools and, for each event, says which of
// their pupils' figures, details or escalation it changed. Figures and
// escalation are computed as of the UK-local day the event was recorded,
// just before and just after applying it, so what an event yields depends
// only on the log up to it: a subscriber resumed after position P gets
// exactly what a subscriber that never stopped got after P.
//
// The day turning is a change too (time-driven: an action falls due, a
// monitoring period ends, a rolling window moves). The fold's day is the
// latest day an event was recorded on or the clock turned it to. A turn to
// day D is placed at the position of the last event recorded before D: it
// comes before the first event recorded on or after D (any school's), or,
// at the head, when the caller's clock says D has come (TurnDay). Each
// day crossed is one turn: every pupil of the schools evaluated as of the
// day before and as of D with the same log. Turns are keyed (position,
// day): a subscriber that has had the turns at position P up to day Dp
// resumes with {P, Dp} and gets the later ones once.
// Not thread-safe.
// Where a projection-changes subscriber resumes (see ProjectionChangeFold).
struct ProjectionChangeResume {
  ledger::Position after_position = 0;
  Day after_day = 0;  // 0: no turn at after_position had been received
};

class ProjectionChangeFold {
 public:
  using Resume = ProjectionChangeResume;
  // `windows` not empty: the windows every change carries (the first one's
  // PA/SA flags are the band). `escalation`: evaluate the schools'
  // policies and send escalation changes.
  ProjectionChangeFold(absl::flat_hash_set<std::string> schools, std::vector<WindowSpec> windows,
                       bool escalation = false, Resume resume = {});

  // Applies an event without computing changes (catching up to a resume
  // point). Events of other schools are ignored, but for their day.
  void Skip(const v1::EventEnvelope& event);
  // Applies an event and appends the changes it made, in pupil order of
  // first appearance for school-level events, after the time-driven
  // changes of the days its recorded day turns to.
  void Apply(const v1::EventEnvelope& event, std::vector<v1::PupilChange>& out);
  // At the head: turns the day to `today` (if later than day()) and appends
  // the time-driven changes, at position().
  void TurnDay(Day today, std::vector<v1::PupilChange>& out);

  ledger::Position position() const { return position_; }
  // 0 before the first event.
  Day day() const { return day_; }

 private:
  // The pupil's figures for `windows_` as of `as_of`; false if the pupil is
  // not known by then.
  bool Figures(const SchoolState& school, const PupilState& pupil, Day as_of,
               v1::PupilAttendance& out) const;
  // Turns day_ to `to` one day at a time, appending the turns delivered.
  void TurnTo(Day to, std::vector<v1::PupilChange>* out);
  void TurnOneDay(Day to, std::vector<v1::PupilChange>& out);
  // EscalationOf, remembered: a pupil's last evaluation (cut to what the
  // diff reads) serves again for the same day until an event of the pupil
  // or its school changes the state (Forget), so an event or a day's turn
  // evaluates each pupil once rather than twice.
  std::optional<v1::PupilEscalation> EscalationAsOf(
      const std::string& school_id, const std::string& pupil_id, Day day,
      EvaluationCache* cache = nullptr, const ledger::SchoolCalendar* calendar = nullptr);
  void Forget(const v1::EventEnvelope& event);

  absl::flat_hash_set<std::string> schools_;
  std::vector<std::string> ordered_schools_;  // deterministic order of turns
  std::vector<WindowSpec> windows_;
  bool escalation_;
  Resume resume_;
  EscalationState state_;
  struct Remembered {
    Day day = 0;
    std::optional<v1::PupilEscalation> escalation;
  };
  std::map<std::pair<std::string, std::string>, Remembered> remembered_;  // (school, pupil)
  ledger::Position position_ = 0;
  Day day_ = 0;
};

}  // namespace attendance::projections
