#include "projections/projection_changes.h"

#include <algorithm>
#include <optional>
#include <utility>

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
  TurnTo(ledger::SchoolLocalDay(event.recorded_at_us()), nullptr);
  position_ = event.position();
  if (!schools_.contains(event.school_id())) return;
  state_.Apply(event);
  Forget(event);
}

void ProjectionChangeFold::Forget(const v1::EventEnvelope& event) {
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
    const std::string& school_id, const std::string& pupil_id, Day day, EvaluationCache* cache,
    const ledger::SchoolCalendar* calendar) {
  Remembered& r = remembered_[{school_id, pupil_id}];
  if (r.day == day && day != 0) return r.escalation;
  r.day = day;
  r.escalation = EscalationOf(state_, school_id, pupil_id, day, cache, calendar);
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

void ProjectionChangeFold::TurnTo(Day to, std::vector<v1::PupilChange>* out) {
  if (day_ == 0 || to <= day_) {  // the first event starts the day; a clock set back does not
    day_ = std::max(day_, to);
    return;
  }
  for (Day next = day_ + 1; next <= to; ++next) {
    const bool deliver =
        out != nullptr && (position_ > resume_.after_position ||
                           (position_ == resume_.after_position && next > resume_.after_day));
    if (deliver) TurnOneDay(next, *out);
    day_ = next;
  }
}

void ProjectionChangeFold::TurnOneDay(Day to, std::vector<v1::PupilChange>& out) {
  const Day from = to - 1;
  for (const std::string& id : ordered_schools_) {
    const SchoolState* school = state_.attendance().FindSchool(id);
    if (school == nullptr) continue;
    const bool evaluate = escalation_ && state_.PolicyForEvaluation(id, to) != nullptr;
    // One school, two days: the pupils share the calendar's answers (the
    // school's own calendar; one composed for a past day is not cached).
    ledger::SchoolCalendar scratch;
    std::optional<EvaluationCache> cache_from, cache_to;
    if (&school->CalendarAsOf(from, &scratch) == &school->calendar) {
      cache_from.emplace(school->calendar);
    }
    if (&school->CalendarAsOf(to, &scratch) == &school->calendar)
      cache_to.emplace(school->calendar);
    auto cache = [](std::optional<EvaluationCache>& c) { return c ? &*c : nullptr; };
    for (const PupilState& pupil : school->pupils) {
      v1::PupilChange change;
      if (!Figures(*school, pupil, to, *change.mutable_attendance())) continue;
      Before b;
      b.known = Figures(*school, pupil, from, b.figures);
      bool changed = !b.known || !SameFigures(b.figures, change.attendance());
      if (evaluate) {
        const std::optional<v1::PupilEscalation> before =
            EscalationAsOf(id, pupil.id, from, cache(cache_from), &school->calendar);
        const std::optional<v1::PupilEscalation> after =
            EscalationAsOf(id, pupil.id, to, cache(cache_to), &school->calendar);
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

void ProjectionChangeFold::TurnDay(Day today, std::vector<v1::PupilChange>& out) {
  TurnTo(today, &out);
}

void ProjectionChangeFold::Apply(const v1::EventEnvelope& event,
                                 std::vector<v1::PupilChange>& out) {
  const Day as_of = ledger::SchoolLocalDay(event.recorded_at_us());
  TurnTo(as_of, &out);  // the day's turn comes first, at the previous position
  if (!schools_.contains(event.school_id())) {
    position_ = event.position();
    return;
  }
  const bool evaluate =
      escalation_ && state_.PolicyForEvaluation(event.school_id(), as_of) != nullptr;
  auto before_of = [&](const SchoolState& school, const PupilState& pupil) {
    Before b;
    b.id = pupil.id;
    b.known = Figures(school, pupil, as_of, b.figures);
    if (b.known && evaluate) b.escalation = EscalationAsOf(school.id, pupil.id, as_of);
    return b;
  };
  // The pupils the event can change: its own, or every pupil of the school
  // for a school-level event (calendar, settings, policy).
  std::vector<Before> before;
  if (const SchoolState* school = state_.attendance().FindSchool(event.school_id());
      school != nullptr) {
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
  for (const Before& b : before) {
    const PupilState* pupil = school->FindPupil(b.id);
    if (pupil == nullptr) continue;
    v1::PupilChange change;
    if (!Figures(*school, *pupil, as_of, *change.mutable_attendance())) continue;
    bool changed =
        !b.known || b.figures.SerializeAsString() != change.attendance().SerializeAsString();
    if (evaluate_after || b.escalation) {
      const std::optional<v1::PupilEscalation> after =
          evaluate_after ? EscalationAsOf(school->id, pupil->id, as_of) : std::nullopt;
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
