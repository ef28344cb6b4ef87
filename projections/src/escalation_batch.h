#pragma once

// Many pupils of one school evaluated for one date, as the worklist asks:
// each kept result found, the others evaluated on both cores (pupils are
// independent and the state is read-only under the caller's shared lock).
// Internal to projections/.
#include <string_view>
#include <vector>

#include "projections/escalation.h"
#include "projections/escalation_cache.h"

namespace attendance::projections {

// The result of each of `pupils` (in order) under `key` as of `as_of` at
// `minute`: kept ones from the state's cache, the rest evaluated (and kept).
// `key.due_only` and `key.explain` say what to evaluate. The school must have
// a policy for the date (PolicyForEvaluation).
std::vector<EscalationResultCache::Result> EvaluatePupils(
    const EscalationState& state, std::string_view school_id, Day as_of, int minute,
    const EscalationResultCache::Key& key, const std::vector<const PupilState*>& pupils);

}  // namespace attendance::projections
