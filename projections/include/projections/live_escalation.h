#pragma once

#include "projections/escalation.h"
#include "projections/live_state.h"

namespace attendance::projections {

// The escalation state shared by services::EscalationReadModel and the
// Escalation gRPC handlers.
using LiveEscalation = LiveState<EscalationState>;

}  // namespace attendance::projections
