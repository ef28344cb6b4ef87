#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "attendance/v1/events.pb.h"
#include "attendance/v1/feeds_service.pb.h"
#include "ledger/clock.h"
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
// monitoring period ends, a rolling window moves), and so is a register
// closing (NO_MARK_AFTER_CLOSE: a register not taken by its close time).
// The fold has a clock: a school-local day and a minute of it, the latest
// an event was recorded at or the caller's clock turned it to, moved only
// to turn points: a day's start (minute 0), and, for the schools with a
// policy, the first minute after each register's close time
// (SchoolSettings; the minute the escalation evaluation starts counting the
// register as not taken). A turn to T is placed at the position of the last
// event recorded before T: it comes before the first event recorded at or
// after T (any school's), or, at the head, when the caller's clock says T
// has come (Turn). Each turn point crossed is one turn: every pupil of the
// schools concerned evaluated as of the clock before and after it, with
// the same log (a register's close evaluates only the schools whose
// register closed then, and changes only their escalation). Events are
// evaluated as of the clock's minute on the day they were recorded. Turns
// are keyed (position, day, minute): a subscriber that has had the turns at
// position P up to (Dp, Mp) resumes with {P, Dp, Mp} and gets the later
// ones once.
// Not thread-safe.
// Where a projection-changes subscriber resumes (see ProjectionChangeFold).
struct ProjectionChangeResume {
  ledger::Position after_position = 0;
  Day after_day = 0;     // 0: no turn at after_position had been received
  int after_minute = 0;  // with after_day: the turns of that day up to this minute
};

// Orders the fold's clock readings.
inline std::pair<Day, int> TimeKey(const ledger::LocalTime& t) { return {t.day, t.minute_of_day}; }

class ProjectionChangeFold {
 public:
  using Resume = ProjectionChangeResume;
  // `windows` not empty: the windows every change carries (the first one's
  // PA/SA flags are the band). `escalation`: evaluate the schools'
  // policies and send escalation changes (and turn at register closes).
  ProjectionChangeFold(absl::flat_hash_set<std::string> schools, std::vector<WindowSpec> windows,
                       bool escalation = false, Resume resume = {});

  // Applies an event without computing changes (catching up to a resume
  // point). Events of other schools are ignored, but for their time.
  void Skip(const v1::EventEnvelope& event);
  // Applies an event and appends the changes it made, in pupil order of
  // first appearance for school-level events, after the time-driven
  // changes of the turns its recorded time crosses.
  void Apply(const v1::EventEnvelope& event, std::vector<v1::PupilChange>& out);
  // At the head: makes the next turn if `now` has reached it (NextTurn),
  // appending its time-driven changes (at position(), if after the resume
  // point); false if none was due. A caller sends each turn as its own
  // message, stamped with time().
  bool TurnOnce(const ledger::LocalTime& now, std::vector<v1::PupilChange>& out);
  // Every turn `now` has reached.
  void Turn(const ledger::LocalTime& now, std::vector<v1::PupilChange>& out);
  void TurnDay(Day today, std::vector<v1::PupilChange>& out) { Turn({today, 0}, out); }
  // The next turn point after time() (day 0 before the first event).
  ledger::LocalTime NextTurn() const;

  ledger::Position position() const { return position_; }
  // 0 before the first event.
  Day day() const { return day_; }
  // The turn point of day() the clock has turned to (0: the day's start).
  int minute() const { return minute_; }
  ledger::LocalTime time() const { return {day_, minute_}; }

 private:
  // The pupil's figures for `windows_` as of `as_of`; false if the pupil is
  // not known by then.
  bool Figures(const SchoolState& school, const PupilState& pupil, Day as_of,
               v1::PupilAttendance& out) const;
  // Turns the clock to `to` one turn point at a time, appending the turns
  // delivered.
  void TurnTo(const ledger::LocalTime& to, std::vector<v1::PupilChange>* out);
  // One turn, to NextTurn(): delivered (to `out`) if after the resume point.
  void Step(const ledger::LocalTime& next, std::vector<v1::PupilChange>* out);
  void TurnOne(const ledger::LocalTime& from, const ledger::LocalTime& to,
               std::vector<v1::PupilChange>& out);
  // The minute to evaluate a school's pupils at on `day` at clock minute
  // `minute` (see SchoolMinute in the .cc).
  int EvaluationMinute(const SchoolState& school, Day day, int minute) const;
  // EscalationOf, remembered: a pupil's last evaluation (cut to what the
  // diff reads) serves again for the same day until an event of the pupil
  // or its school changes the state (Forget), so an event or a day's turn
  // evaluates each pupil once rather than twice.
  std::optional<v1::PupilEscalation> EscalationAsOf(
      const std::string& school_id, const std::string& pupil_id, Day day, int minute,
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
    int minute = 0;
    std::optional<v1::PupilEscalation> escalation;
  };
  std::map<std::pair<std::string, std::string>, Remembered> remembered_;  // (school, pupil)
  ledger::Position position_ = 0;
  Day day_ = 0;
  int minute_ = 0;
  // NextTurn(), kept until the clock or a school-level event of the
  // schools moves it (it reads their settings and policies).
  mutable std::optional<ledger::LocalTime> next_turn_;
};

}  // namespace attendance::projections
