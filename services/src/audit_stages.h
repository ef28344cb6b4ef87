#pragma once

// The escalation stage changes of a pupil's timeline (GetPupilTimeline),
// from the escalation read model's ladder history: no ladder logic here
// beyond walking that history in date order.

#include <string_view>
#include <vector>

#include "attendance/v1/audit_service.pb.h"
#include "ledger/types.h"
#include "projections/escalation.h"

namespace attendance::services {

// The pupil's stage changes dated first..last (inclusive), as timeline
// entries with stage_change set, in date order then log order: the pupil
// evaluated once as of `as_of` (projections::EvaluatePupil under the policy
// for evaluation then), each ladder's history (StageRecord) sorted by the
// day it was done, a change wherever the furthest step done so far moves.
// Each change's sentence is the explanation of that step's due action, the
// pupil evaluated as of the change's day without the letter or action that
// did it. Empty when the school has no policy or calendar.
std::vector<v1::TimelineEntry> StageChangeEntries(const projections::EscalationState& state,
                                                  std::string_view school_id,
                                                  std::string_view pupil_id, ledger::Day first,
                                                  ledger::Day last, ledger::Day as_of);

}  // namespace attendance::services
