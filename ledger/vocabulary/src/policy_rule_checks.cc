#include "policy_rule_checks.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "ledger/escalation_policy.h"
#include "ledger/text_checks.h"
#include "ledger/types.h"

namespace attendance::ledger {
namespace {

absl::Status Invalid(const std::string& where, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

}  // namespace

absl::Status CheckEarlierTriggersMatter(const v1::EscalationPolicy& policy,
                                        const std::string& field) {
  for (int i = 0; i < policy.cohort_rules_size(); ++i) {
    const v1::CohortRule& rule = policy.cohort_rules(i);
    for (int e = 0; e < rule.earlier_triggers_size(); ++e) {
      const std::string& id = rule.earlier_triggers(e).trigger_id();
      const auto trigger =
          std::find_if(policy.triggers().begin(), policy.triggers().end(),
                       [&](const v1::CountedTrigger& t) { return t.trigger_id() == id; });
      if (trigger == policy.triggers().end() || trigger->action() != v1::ACTION_KIND_UNSPECIFIED) {
        continue;  // an unknown trigger is refused by the cohort rule's own check
      }
      const bool waited_on =
          std::any_of(policy.ladders().begin(), policy.ladders().end(), [&](const v1::Ladder& l) {
            return std::any_of(l.steps().begin(), l.steps().end(),
                               [&](const v1::LadderStep& s) { return s.trigger_id() == id; });
          });
      if (!waited_on) {
        return Invalid(absl::StrCat(field, ".cohort_rules[", i, "] (", Quoted(rule.rule_id()),
                                    ").earlier_triggers[", e, "].trigger_id"),
                       absl::StrCat(Quoted(id),
                                    " has no action of its own and no ladder step waits on it, "
                                    "so a lower threshold changes nothing"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace attendance::ledger
