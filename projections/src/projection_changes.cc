#include "projections/projection_changes.h"

#include <utility>

#include "ledger/clock.h"
#include "ledger/types.h"
#include "projections/figures.h"

namespace attendance::projections {
namespace {

// A pupil's figures before the event (found again by id after it: Apply may
// move the pupil).
struct Before {
  std::string id;
  bool known = false;
  v1::PupilAttendance figures;
};

bool Flag(const v1::PupilAttendance& a, bool severe) {
  if (a.windows_size() == 0) return false;
  const v1::AttendanceFigures& f = a.windows(0).figures();
  return severe ? f.severe_absence() : f.persistent_absence();
}

}  // namespace

ProjectionChangeFold::ProjectionChangeFold(absl::flat_hash_set<std::string> schools,
                                           std::vector<WindowSpec> windows)
    : schools_(std::move(schools)), windows_(std::move(windows)) {}

void ProjectionChangeFold::Skip(const v1::EventEnvelope& event) {
  position_ = event.position();
  if (schools_.contains(event.school_id())) state_.Apply(event);
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

void ProjectionChangeFold::Apply(const v1::EventEnvelope& event,
                                 std::vector<v1::PupilChange>& out) {
  if (!schools_.contains(event.school_id())) {
    position_ = event.position();
    return;
  }
  const Day as_of = ledger::SchoolLocalDay(event.recorded_at_us());
  // The pupils the event can change: its own, or every pupil of the school
  // for a school-level event (calendar, settings).
  std::vector<Before> before;
  if (const SchoolState* school = state_.FindSchool(event.school_id()); school != nullptr) {
    if (!event.pupil_id().empty()) {
      if (const PupilState* pupil = school->FindPupil(event.pupil_id()); pupil != nullptr) {
        Before& b = before.emplace_back();
        b.id = pupil->id;
        b.known = Figures(*school, *pupil, as_of, b.figures);
      }
    } else {
      before.reserve(school->pupils.size());
      for (const PupilState& pupil : school->pupils) {
        Before& b = before.emplace_back();
        b.id = pupil.id;
        b.known = Figures(*school, pupil, as_of, b.figures);
      }
    }
  }
  if (before.empty() && !event.pupil_id().empty()) before.emplace_back().id = event.pupil_id();
  state_.Apply(event);
  position_ = event.position();
  const SchoolState* school = state_.FindSchool(event.school_id());
  if (school == nullptr) return;
  for (const Before& b : before) {
    const PupilState* pupil = school->FindPupil(b.id);
    if (pupil == nullptr) continue;
    v1::PupilChange change;
    if (!Figures(*school, *pupil, as_of, *change.mutable_attendance())) continue;
    if (b.known && b.figures.SerializeAsString() == change.attendance().SerializeAsString()) {
      continue;
    }
    change.set_school_id(school->id);
    change.set_persistent_absence_before(b.known && Flag(b.figures, false));
    change.set_severe_absence_before(b.known && Flag(b.figures, true));
    change.set_persistent_absence(Flag(change.attendance(), false));
    change.set_severe_absence(Flag(change.attendance(), true));
    change.mutable_attendance()->set_position(event.position());
    out.push_back(std::move(change));
  }
}

}  // namespace attendance::projections
