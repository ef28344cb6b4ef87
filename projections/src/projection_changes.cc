#include "projections/projection_changes.h"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "escalation_internal.h"
#include "ledger/clock.h"
#include "ledger/types.h"
#include "projections/escalation_changes.h"
#include "projections/figures.h"

namespace attendance::projections {
namespace {

// A pupil's state before the event or the day's turn (found again by id
// after it: Apply may move the pupil).
struct Before {
  std::string id;
  bool known = false;
  v1::PupilAttendance figures;
  std::optional<v1::PupilEscalation> escalation;
};

bool Flag(const v1::PupilAttendance& a, bool severe) {
  if (a.windows_size() == 0) return false;
  const v1::AttendanceFigures& f = a.windows(0).figures();
  return severe ? f.severe_absence() : f.persistent_absence();
}

// The same figures and details on two days: the as-of date and the
// windows' dates aside.
bool SameFigures(const v1::PupilAttendance& a, const v1::PupilAttendance& b) {
  if (a.on_roll() != b.on_roll() || a.windows_size() != b.windows_size() ||
      a.pupil().SerializeAsString() != b.pupil().SerializeAsString()) {
    return false;
  }
  for (int i = 0; i < a.windows_size(); ++i) {
    if (a.windows(i).figures().SerializeAsString() != b.windows(i).figures().SerializeAsString()) {
      return false;
    }
  }
  return true;
}

// The first minute of the day each of the school's registers counts as
// closed, as the escalation evaluation reads the close times.
std::array<int, 2> ClosedFrom(const v1::SchoolSettings& settings) {
  return {escalation_internal::CloseMinute(settings, 0) + 1,
          escalation_internal::CloseMinute(settings, 1) + 1};
}

// The clock minute `minute` as the school's evaluation sees it: 0 before its
// first register closes, else the minute its latest closed register closed
// from. The evaluation reads only which registers have closed, so this
// gives the same answer as `minute` in fewer values, and a remembered
// evaluation serves for the whole stretch between two closes.
int SchoolMinute(const v1::SchoolSettings& settings, int minute) {
  if (minute >= kEndOfDay) return kEndOfDay;
  int seen = 0;
  for (const int closed : ClosedFrom(settings)) {
    if (closed <= minute) seen = std::max(seen, closed);
  }
  return seen;
}

void SetFlags(const Before& b, v1::PupilChange& change) {
  change.set_persistent_absence_before(b.known && Flag(b.figures, false));
  change.set_severe_absence_before(b.known && Flag(b.figures, true));
  change.set_persistent_absence(Flag(change.attendance(), false));
  change.set_severe_absence(Flag(change.attendance(), true));
}

}  // namespace

ProjectionChangeFold::ProjectionChangeFold(absl::flat_hash_set<std::string> schools,
                                           std::vector<WindowSpec> windows, bool escalation,
                                           Resume resume)
    : schools_(std::move(schools)),
      ordered_schools_(schools_.begin(), schools_.end()),
      windows_(std::move(windows)),
      escalation_(escalation),
      resume_(resume) {
  std::sort(ordered_schools_.begin(), ordered_schools_.end());
}

void ProjectionChangeFold::Skip(const v1::EventEnvelope& event) {
  TurnTo(ledger::SchoolLocalTime(event.recorded_at_us()), nullptr);
  position_ = event.position();
  if (!schools_.contains(event.school_id())) return;
  state_.Apply(event);
  Forget(event);
}

void ProjectionChangeFold::Forget(const v1::EventEnvelope& event) {
  if (event.pupil_id().empty()) next_turn_.reset();  // settings or a policy may have changed
  if (remembered_.empty()) return;
  if (!event.pupil_id().empty()) {
    remembered_.erase({event.school_id(), event.pupil_id()});
    return;
  }
  // A school-level event (or one naming its pupil only in its payload).
  auto it = remembered_.lower_bound({event.school_id(), ""});
  while (it != remembered_.end() && it->first.first == event.school_id()) {
    it = remembered_.erase(it);
  }
}

std::optional<v1::PupilEscalation> ProjectionChangeFold::EscalationAsOf(
    const std::string& school_id, const std::string& pupil_id, Day day, int minute,
    EvaluationCache* cache, const ledger::SchoolCalendar* calendar) {
  Remembered& r = remembered_[{school_id, pupil_id}];
  if (r.day == day && r.minute == minute && day != 0) return r.escalation;
  r.day = day;
  r.minute = minute;
  r.escalation = EscalationOf(state_, school_id, pupil_id, day, cache, calendar, minute);
  if (r.escalation) {  // what DiffEscalation does not read
    r.escalation->clear_near_misses();
    r.escalation->clear_bands();
    for (v1::LadderState& ladder : *r.escalation->mutable_ladders()) {
      ladder.clear_history();
      if (ladder.has_monitoring() && ladder.monitoring().has_explanation()) {
        ladder.mutable_monitoring()->mutable_explanation()->clear_sessions();
      }
    }
    for (v1::DueAction& due : *r.escalation->mutable_due()) {
      if (due.has_explanation()) due.mutable_explanation()->clear_sessions();
    }
  }
  return r.escalation;
}

bool ProjectionChangeFold::Figures(const SchoolState& school, const PupilState& pupil, Day as_of,
                                   v1::PupilAttendance& out) const {
  if (!pupil.KnownAsOf(as_of)) return false;
  out.Clear();
  out.set_school_id(school.id);
  if (const v1::Pupil* details = pupil.AttributesAt(as_of, as_of); details != nullptr) {
    *out.mutable_pupil() = *details;
  }
  out.mutable_pupil()->set_pupil_id(pupil.id);
  out.set_on_roll(pupil.OnRollDuring(as_of, as_of, as_of));
  out.set_as_of(ledger::FormatDate(as_of));
  ledger::SchoolCalendar scratch;
  const ledger::SchoolCalendar& calendar = school.CalendarAsOf(as_of, &scratch);
  const AbsenceThresholds thresholds = ThresholdsOf(school.SettingsAsOf(as_of));
  for (const WindowSpec& spec : windows_) {
    const ResolvedWindow w = ResolveWindow(calendar, spec, as_of);
    v1::WindowFigures* wf = out.add_windows();
    WindowToProto(w, wf->mutable_window());
    FiguresToProto(pupil.Count(w.first, w.last, as_of), &thresholds, wf->mutable_figures());
  }
  return true;
}

int ProjectionChangeFold::EvaluationMinute(const SchoolState& school, Day day, int minute) const {
  return SchoolMinute(school.SettingsAsOf(day), minute);
}

ledger::LocalTime ProjectionChangeFold::NextTurn() const {
  if (next_turn_) return *next_turn_;
  int next = kEndOfDay;
  if (escalation_) {
    for (const std::string& id : ordered_schools_) {
      const SchoolState* school = state_.attendance().FindSchool(id);
      if (school == nullptr || state_.PolicyForEvaluation(id, day_) == nullptr) continue;
      // A register with no close time closes with its day (the day's turn).
      for (const int closed : ClosedFrom(school->SettingsAsOf(day_))) {
        if (closed > minute_ && closed < next) next = closed;
      }
    }
  }
  next_turn_ = next < kEndOfDay ? ledger::LocalTime{day_, next} : ledger::LocalTime{day_ + 1, 0};
  return *next_turn_;
}

void ProjectionChangeFold::TurnTo(const ledger::LocalTime& to, std::vector<v1::PupilChange>* out) {
  if (day_ == 0) {  // the first event starts the clock
    day_ = to.day;
    minute_ = 0;
    next_turn_.reset();
  }
  // A clock set back does not turn it back.
  for (ledger::LocalTime next = NextTurn(); TimeKey(next) <= TimeKey(to); next = NextTurn()) {
    Step(next, out);
  }
}

void ProjectionChangeFold::Step(const ledger::LocalTime& next, std::vector<v1::PupilChange>* out) {
  const bool deliver =
      out != nullptr && (position_ > resume_.after_position ||
                         (position_ == resume_.after_position &&
                          TimeKey(next) > TimeKey({resume_.after_day, resume_.after_minute})));
  if (deliver) TurnOne(time(), next, *out);
  day_ = next.day;
  minute_ = next.minute_of_day;
  next_turn_.reset();
}

bool ProjectionChangeFold::TurnOnce(const ledger::LocalTime& now,
                                    std::vector<v1::PupilChange>& out) {
  if (day_ == 0) return false;
  const ledger::LocalTime next = NextTurn();
  if (TimeKey(next) > TimeKey(now)) return false;
  Step(next, &out);
  return true;
}

void ProjectionChangeFold::Turn(const ledger::LocalTime& now, std::vector<v1::PupilChange>& out) {
  while (TurnOnce(now, out)) {
  }
}

void ProjectionChangeFold::TurnOne(const ledger::LocalTime& from, const ledger::LocalTime& to,
                                   std::vector<v1::PupilChange>& out) {
  const bool day_turn = to.day != from.day;
  for (const std::string& id : ordered_schools_) {
    const SchoolState* school = state_.attendance().FindSchool(id);
    if (school == nullptr) continue;
    const bool evaluate = escalation_ && state_.PolicyForEvaluation(id, to.day) != nullptr;
    const int minute_from = EvaluationMinute(*school, from.day, from.minute_of_day);
    const int minute_to = EvaluationMinute(*school, to.day, to.minute_of_day);
    // A register's close changes nothing but the escalation of the schools
    // whose register it was.
    if (!day_turn && (!evaluate || minute_from == minute_to)) continue;
    ledger::SchoolCalendar scratch;
    if (!day_turn && !school->CalendarAsOf(to.day, &scratch).IsSchoolDay(to.day)) continue;
    // One school, two days: the pupils share the calendar's answers (the
    // school's own calendar; one composed for a past day is not cached).
    std::optional<EvaluationCache> cache_from, cache_to;
    if (&school->CalendarAsOf(from.day, &scratch) == &school->calendar) {
      cache_from.emplace(school->calendar);
    }
    if (&school->CalendarAsOf(to.day, &scratch) == &school->calendar)
      cache_to.emplace(school->calendar);
    auto cache = [](std::optional<EvaluationCache>& c) { return c ? &*c : nullptr; };
    for (const PupilState& pupil : school->pupils) {
      v1::PupilChange change;
      if (!Figures(*school, pupil, to.day, *change.mutable_attendance())) continue;
      Before b;
      bool changed = false;
      if (day_turn) {
        b.known = Figures(*school, pupil, from.day, b.figures);
        changed = !b.known || !SameFigures(b.figures, change.attendance());
      } else {
        b.known = true;
        b.figures = change.attendance();
      }
      if (evaluate) {
        const std::optional<v1::PupilEscalation> before = EscalationAsOf(
            id, pupil.id, from.day, minute_from, cache(cache_from), &school->calendar);
        const std::optional<v1::PupilEscalation> after =
            EscalationAsOf(id, pupil.id, to.day, minute_to, cache(cache_to), &school->calendar);
        v1::EscalationChange diff;
        if (DiffEscalation(before ? &*before : nullptr, after ? &*after : nullptr, diff)) {
          *change.mutable_escalation() = std::move(diff);
          changed = true;
        }
      }
      if (!changed) continue;
      change.set_school_id(id);
      change.set_time_driven(true);
      SetFlags(b, change);
      change.mutable_attendance()->set_position(position_);
      out.push_back(std::move(change));
    }
  }
}

void ProjectionChangeFold::Apply(const v1::EventEnvelope& event,
                                 std::vector<v1::PupilChange>& out) {
  const ledger::LocalTime recorded = ledger::SchoolLocalTime(event.recorded_at_us());
  const Day as_of = recorded.day;
  TurnTo(recorded, &out);  // the turns come first, at the previous position
  if (!schools_.contains(event.school_id())) {
    position_ = event.position();
    return;
  }
  // As of the clock's turn point on its day (an event stamped on an earlier
  // day than the clock's, after a clock was set back: that whole day).
  const int clock_minute = as_of == day_ ? minute_ : kEndOfDay;
  const bool evaluate =
      escalation_ && state_.PolicyForEvaluation(event.school_id(), as_of) != nullptr;
  int minute_before = kEndOfDay;
  auto before_of = [&](const SchoolState& school, const PupilState& pupil) {
    Before b;
    b.id = pupil.id;
    b.known = Figures(school, pupil, as_of, b.figures);
    if (b.known && evaluate) {
      b.escalation = EscalationAsOf(school.id, pupil.id, as_of, minute_before);
    }
    return b;
  };
  // The pupils the event can change: its own, or every pupil of the school
  // for a school-level event (calendar, settings, policy).
  std::vector<Before> before;
  if (const SchoolState* school = state_.attendance().FindSchool(event.school_id());
      school != nullptr) {
    minute_before = EvaluationMinute(*school, as_of, clock_minute);
    if (!event.pupil_id().empty()) {
      if (const PupilState* pupil = school->FindPupil(event.pupil_id()); pupil != nullptr) {
        before.push_back(before_of(*school, *pupil));
      }
    } else {
      before.reserve(school->pupils.size());
      for (const PupilState& pupil : school->pupils) before.push_back(before_of(*school, pupil));
    }
  }
  if (before.empty() && !event.pupil_id().empty()) before.emplace_back().id = event.pupil_id();
  state_.Apply(event);
  Forget(event);
  position_ = event.position();
  const SchoolState* school = state_.attendance().FindSchool(event.school_id());
  if (school == nullptr) return;
  const bool evaluate_after =
      escalation_ && state_.PolicyForEvaluation(event.school_id(), as_of) != nullptr;
  const int minute_after = EvaluationMinute(*school, as_of, clock_minute);
  for (const Before& b : before) {
    const PupilState* pupil = school->FindPupil(b.id);
    if (pupil == nullptr) continue;
    v1::PupilChange change;
    if (!Figures(*school, *pupil, as_of, *change.mutable_attendance())) continue;
    bool changed =
        !b.known || b.figures.SerializeAsString() != change.attendance().SerializeAsString();
    if (evaluate_after || b.escalation) {
      const std::optional<v1::PupilEscalation> after =
          evaluate_after ? EscalationAsOf(school->id, pupil->id, as_of, minute_after)
                         : std::nullopt;
      v1::EscalationChange diff;
      if (DiffEscalation(b.escalation ? &*b.escalation : nullptr, after ? &*after : nullptr,
                         diff)) {
        *change.mutable_escalation() = std::move(diff);
        changed = true;
      }
    }
    if (!changed) continue;
    change.set_school_id(school->id);
    SetFlags(b, change);
    change.mutable_attendance()->set_position(event.position());
    out.push_back(std::move(change));
  }
}

}  // namespace attendance::projections
