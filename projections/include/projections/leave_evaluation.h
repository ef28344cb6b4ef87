#pragma once

#include "absl/status/statusor.h"
#include "attendance/v1/escalation_service.pb.h"
#include "ledger/types.h"
#include "projections/escalation.h"

namespace attendance::projections {

// The sessions a leave request asks for, inclusive.
struct LeaveRange {
  Day first = 0;
  v1::Session first_session = v1::AM;
  Day last = 0;
  v1::Session last_session = v1::PM;
};

// What the school's leave rules (EscalationPolicy.leave_rules) say of a
// request for leave of absence in term time made at the end of `as_of`, with
// the marks known then (seed 001 section 8). Each rule that is set is one
// check with its numbers and a sentence: the notice given, statutory
// assessment windows and the school days just before them, unauthorised
// absence, authorised absence (refused above the share; exactly 10% passes),
// attendance with the requested sessions counted as absent (refused below;
// exactly 96% passes). Any failed check refuses; otherwise the rules'
// `when_no_rule_refuses`, by default (and with no leave rules at all)
// LEAVE_REFER_TO_HEADTEACHER: the national rules grant leave only in
// exceptional circumstances. Pure. INVALID_ARGUMENT: the range holds no
// school session for the pupil (or none of it is in the calendar).
absl::StatusOr<v1::LeaveEvaluation> EvaluateLeave(const EscalationInputs& inputs,
                                                  const LeaveRange& range, Day as_of);

// The Escalation service's EvaluateLeaveRequest over the read model's state:
// checks the request's fields (INVALID_ARGUMENT naming them), NOT_FOUND for
// an unknown school or pupil; `today` stands for an empty as_of.
absl::StatusOr<v1::LeaveEvaluation> QueryLeaveEvaluation(
    const EscalationState& state, const v1::EvaluateLeaveRequestRequest& request, Day today);

}  // namespace attendance::projections
