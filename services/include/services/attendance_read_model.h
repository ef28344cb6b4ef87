#pragma once

#include <string>
#include <utility>

#include "projections/live_attendance.h"
#include "services/live_state_read_model.h"

namespace attendance::services {

// The attendance figures (projections::LiveAttendance) as a read model.
class AttendanceReadModel final : public LiveStateReadModel<projections::AttendanceState> {
 public:
  static constexpr const char* kName = "projections.attendance.v1";

  explicit AttendanceReadModel(projections::LiveAttendance* live, std::string name = kName)
      : LiveStateReadModel(live, std::move(name)) {}
};

}  // namespace attendance::services
