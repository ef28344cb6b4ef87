#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "attendance/v1/events.pb.h"
#include "attendance/v1/feeds_service.pb.h"
#include "projections/attendance_state.h"
#include "projections/windows.h"

namespace attendance::projections {

// The projection-changes feed as a pure fold: it keeps the attendance state
// of a few schools and, for each event, says which of their pupils' figures
// or details it changed. Figures are computed as of the UK-local day the
// event was recorded, just before and just after applying it, so what an
// event yields depends only on the log up to it: a subscriber resumed after
// position P gets exactly what a subscriber that never stopped got after P.
// Not thread-safe.
class ProjectionChangeFold {
 public:
  // `windows` not empty: the windows every change carries (the first one's
  // PA/SA flags are the band).
  ProjectionChangeFold(absl::flat_hash_set<std::string> schools, std::vector<WindowSpec> windows);

  // Applies an event without computing changes (catching up to a resume
  // point). Events of other schools are ignored.
  void Skip(const v1::EventEnvelope& event);
  // Applies an event and appends the changes it made, in pupil order of
  // first appearance for school-level events.
  void Apply(const v1::EventEnvelope& event, std::vector<v1::PupilChange>& out);

  ledger::Position position() const { return position_; }

 private:
  // The pupil's figures for `windows_` as of `as_of`; false if the pupil is
  // not known by then.
  bool Figures(const SchoolState& school, const PupilState& pupil, Day as_of,
               v1::PupilAttendance& out) const;

  absl::flat_hash_set<std::string> schools_;
  std::vector<WindowSpec> windows_;
  AttendanceState state_;
  ledger::Position position_ = 0;
};

}  // namespace attendance::projections
