// A cohort rule's earlier trigger for the ladder steps that wait on the
// trigger (escalation_internal.h): the same lowered threshold the trigger's
// own action gets in escalation_triggers.cc.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "escalation_internal.h"

namespace attendance::projections::escalation_internal {

std::optional<v1::CountedTrigger> LoweredForCohort(const Ctx& c, const v1::CountedTrigger& t,
                                                   std::string* note, std::string* rule_id) {
  std::string words;
  const std::optional<std::uint32_t> threshold = CohortThreshold(c, t, &words, rule_id);
  if (!threshold) return std::nullopt;
  v1::CountedTrigger lowered = t;
  lowered.set_threshold(*threshold);
  lowered.set_near_miss(std::min(t.near_miss(), *threshold - 1));
  *note = absl::StrCat(" (", words, ")");
  return lowered;
}

}  // namespace attendance::projections::escalation_internal
