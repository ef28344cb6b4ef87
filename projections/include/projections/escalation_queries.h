#pragma once

#include "absl/status/statusor.h"
#include "attendance/v1/escalation_service.pb.h"
#include "ledger/types.h"
#include "projections/escalation.h"

namespace attendance::projections {

// The Escalation service's queries over the escalation state, pure: `today`
// is the school-local date for a request without as_of. INVALID_ARGUMENT
// naming the field and value; NOT_FOUND for an unknown school or pupil, or
// no policy in force on the date.
absl::StatusOr<v1::GetEscalationPolicyResponse> QueryEscalationPolicy(
    const EscalationState& state, const v1::GetEscalationPolicyRequest& request, Day today);
// `now_minute`: minutes after midnight of `today` (school-local), for the
// registers of today that have closed; a request's as_of_time overrides it.
absl::StatusOr<v1::PupilEscalation> QueryPupilEscalation(
    const EscalationState& state, const v1::GetPupilEscalationRequest& request, Day today,
    int now_minute = kEndOfDay);
// Pupils on roll on as_of, every action due on or before it; highest
// priority first, then earliest due_on, pupil id, rule id. page_size 1..1000
// (0 = 100); page_token is the offset a previous page returned.
absl::StatusOr<v1::ListDueActionsResponse> QueryDueActions(const EscalationState& state,
                                                           const v1::ListDueActionsRequest& request,
                                                           Day today, int now_minute = kEndOfDay);

// The minute of as_of the evaluation sees: as_of_time ("HH:MM"), else
// now_minute when as_of is today, else kEndOfDay. INVALID_ARGUMENT naming
// as_of_time.
absl::StatusOr<int> AsOfMinute(const std::string& as_of_time, Day as_of, Day today, int now_minute);

inline constexpr std::uint32_t kMaxDueActionsPage = 1000;

}  // namespace attendance::projections
