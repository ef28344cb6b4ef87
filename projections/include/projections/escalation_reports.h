#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "attendance/v1/escalation_service.pb.h"
#include "ledger/types.h"
#include "projections/escalation.h"

namespace attendance::projections {

// The Escalation service's listings and the what-if replay, pure, over the
// escalation state (escalation_queries.h has the policy, one pupil and the
// worklist). `today` is the school-local date for a request without as_of,
// `now_minute` the minutes after midnight of today. INVALID_ARGUMENT naming
// the field and value; NOT_FOUND for an unknown school or no policy.

// Limits (README "Escalation"): rows per page of ListEscalations and
// ListFirstResponse; SimulatePolicy's span and its cost, in pupil
// evaluations (pupils x school weeks x the two policies: a 2,000-pupil
// school's three years, with its intakes and leavers 3,040 pupils on roll at
// some time, is 711,360).
inline constexpr std::uint32_t kMaxEscalationsPage = 1000;
inline constexpr std::uint32_t kMaxFirstResponsePage = 1000;
inline constexpr int kMaxSimulationAcademicYears = 3;
inline constexpr std::uint64_t kMaxSimulationEvaluations = 1'000'000;

// Pupils on roll on as_of, one row per pupil and ladder: the stage, since
// when, its monitoring, the steps due next; filtered by ladder, stage
// ("none" = not started) and cohort; ordered by ladder (policy order), the
// furthest stage first, then pupil id; with the count at each stage.
absl::StatusOr<v1::ListEscalationsResponse> QueryEscalations(
    const EscalationState& state, const v1::ListEscalationsRequest& request, Day today);

// The first-response list of as_of (the policy's first_response): pupils on
// roll whose morning session has an N, or no mark once the morning register
// has closed, and no call or visit recorded that day; vulnerable pupils
// (child-protection plan, child in need, looked after) first, then home
// visits, the longest run, pupil id. FAILED_PRECONDITION if the policy sets
// no first_response.
absl::StatusOr<v1::ListFirstResponseResponse> QueryFirstResponse(
    const EscalationState& state, const v1::ListFirstResponseRequest& request, Day today,
    int now_minute);

// ListDueActions's stage and cohort filters (escalation_listing.cc):
// INVALID_ARGUMENT naming the field for a stage without its ladder_id, a
// stage or ladder the policy does not have, a bad cohort filter.
absl::Status CheckDueActionFilters(const v1::EscalationPolicy& policy,
                                   const v1::ListDueActionsRequest& request);
// The pupil's details on as_of match every cohort filter.
bool DueCohortMatches(const PupilState& pupil, Day as_of, const v1::ListDueActionsRequest& request);
// The pupil's stage on the request's ladder is the request's stage.
bool DueStageMatches(const v1::PupilEscalation& result, const v1::ListDueActionsRequest& request);

// Replays the school's pupils under request.policy (checked as
// SetEscalationPolicy checks it) and under the school's own policies, per
// half-term of [from, to], with the calendar, settings and marks as known
// today (hindsight: imported history replays too): evaluated at the end of
// each school week, every
// step and trigger action due then is taken as done that day (so the next
// step can follow); beside them what was recorded (letters and actions).
// INVALID_ARGUMENT for a bad policy, dates, or more than the limits.
// The pupils are shared out among `threads` threads (0: up to 4, by the
// machine's cores and the school's size); the answer is the same for any.
absl::StatusOr<v1::SimulatePolicyResponse> SimulatePolicy(const EscalationState& state,
                                                          const v1::SimulatePolicyRequest& request,
                                                          Day today, unsigned threads = 0);

}  // namespace attendance::projections
