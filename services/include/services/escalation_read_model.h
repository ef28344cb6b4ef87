#pragma once

#include <string>
#include <utility>

#include "projections/live_escalation.h"
#include "services/live_state_read_model.h"

namespace attendance::services {

// The escalation state (projections::LiveEscalation) as a read model on the
// host, beside the attendance figures: every school's policy history and
// every pupil's letters, with the marks, calendars and settings they are
// evaluated against.
class EscalationReadModel final : public LiveStateReadModel<projections::EscalationState> {
 public:
  static constexpr const char* kName = "projections.escalation.v1";

  explicit EscalationReadModel(projections::LiveEscalation* live, std::string name = kName)
      : LiveStateReadModel(live, std::move(name)) {}
};

}  // namespace attendance::services
