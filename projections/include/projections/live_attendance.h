#pragma once

#include "projections/attendance_state.h"
#include "projections/live_state.h"

namespace attendance::projections {

// The attendance figures shared by services::AttendanceReadModel and the
// Projections gRPC handlers.
using LiveAttendance = LiveState<AttendanceState>;

}  // namespace attendance::projections
