#pragma once

#include <optional>
#include <string_view>

#include "attendance/v1/escalation_service.pb.h"
#include "attendance/v1/feeds_service.pb.h"
#include "ledger/types.h"
#include "projections/escalation.h"

namespace attendance::projections {

// One pupil's escalation as of `as_of_minute` of `as_of` (EvaluatePupil with
// the policy for evaluation then; the minute says which of the day's
// registers have closed), or nullopt when the school has no policy.
// `cache`, made for `cached_calendar`, is shared by the pupils of one school
// and one day; it is used when the pupil is evaluated against that calendar.
std::optional<v1::PupilEscalation> EscalationOf(
    const EscalationState& state, std::string_view school_id, std::string_view pupil_id, Day as_of,
    EvaluationCache* cache = nullptr, const ledger::SchoolCalendar* cached_calendar = nullptr,
    int as_of_minute = kEndOfDay);

// What changed from `before` to `after` (either null: no policy then): the
// ladders whose stage or monitoring period changed, and the due actions that
// appeared or went, a due action being its rule, ladder and kind (a new
// due date, priority or explanation alone is no change). False, and `out`
// untouched, when nothing did. Explanations keep their sentence and counts
// and lose their session lists (a feed message stays small).
bool DiffEscalation(const v1::PupilEscalation* before, const v1::PupilEscalation* after,
                    v1::EscalationChange& out);

}  // namespace attendance::projections
