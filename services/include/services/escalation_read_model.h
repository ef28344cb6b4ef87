#pragma once

#include <string>
#include <utility>

#include "projections/live_escalation.h"
#include "services/live_state_read_model.h"

namespace attendance::services {

// The escalation state (projections::LiveEscalation) as a read model on the
// host, beside the attendance figures: every school's policy history and
// every pupil's letters and actions, with the marks, calendars and settings
// they are evaluated against.
class EscalationReadModel final : public LiveStateReadModel<projections::EscalationState> {
 public:
  // v2: the checkpoint holds actions (ActionRecorded) too; a v1 checkpoint
  // is not read, so the state is rebuilt from the log.
  static constexpr const char* kName = "projections.escalation.v3";

  explicit EscalationReadModel(projections::LiveEscalation* live, std::string name = kName)
      : LiveStateReadModel(live, std::move(name)) {}
};

}  // namespace attendance::services
