#include "policy_rule_checks.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "escalation_rule_checks.h"
#include "ledger/escalation_policy.h"
#include "ledger/text_checks.h"
#include "ledger/types.h"

namespace attendance::ledger {
namespace {

using policy_checks::FindLadder;
using policy_checks::Invalid;
using policy_checks::IsMonthDay;

const v1::LadderStep* FindStep(const v1::Ladder& ladder, const std::string& step_id) {
  for (const v1::LadderStep& step : ladder.steps()) {
    if (step.step_id() == step_id) return &step;
  }
  return nullptr;
}

}  // namespace

absl::Status CheckPreviousYearRule(const v1::PreviousYearRule& rule,
                                   const v1::EscalationPolicy& policy, const std::string& where) {
  if (absl::Status s = CheckText(rule.description(), where + ".description", false); !s.ok()) {
    return s;
  }
  if (rule.action() == v1::ACTION_KIND_UNSPECIFIED || !v1::ActionKind_IsValid(rule.action())) {
    return Invalid(where + ".action",
                   absl::StrCat(static_cast<int>(rule.action()), " is not an action"));
  }
  if (!rule.has_attendance()) {
    return Invalid(where + ".attendance", "says not which pupils (the previous year's attendance)");
  }
  const v1::AttendanceCondition& a = rule.attendance();
  if (a.window().kind() != v1::POLICY_WINDOW_UNSPECIFIED || a.window().weeks() != 0) {
    return Invalid(where + ".attendance.window",
                   "the rule counts the whole previous academic year: leave the window unset");
  }
  if (a.basis_points() > kBasisPointsMax) {
    return Invalid(where + ".attendance.basis_points",
                   absl::StrCat(a.basis_points(), " is more than 10000 (100%)"));
  }
  if (a.comparison() == v1::COMPARISON_UNSPECIFIED || !v1::Comparison_IsValid(a.comparison())) {
    return Invalid(where + ".attendance.comparison",
                   absl::StrCat(static_cast<int>(a.comparison()),
                                " is not BELOW, AT_OR_BELOW, AT_OR_ABOVE or ABOVE"));
  }
  if (!rule.due_through().empty() && !IsMonthDay(rule.due_through())) {
    return Invalid(where + ".due_through",
                   absl::StrCat(Quoted(rule.due_through()), " is not a month and day MM-DD"));
  }
  if (rule.ladder_id().empty() != rule.step_id().empty()) {
    return Invalid(where + (rule.ladder_id().empty() ? ".ladder_id" : ".step_id"),
                   "a rule that does a ladder step names both ladder_id and step_id");
  }
  if (!rule.ladder_id().empty()) {
    const v1::Ladder* ladder = FindLadder(policy, rule.ladder_id());
    if (ladder == nullptr) {
      return Invalid(where + ".ladder_id",
                     absl::StrCat(Quoted(rule.ladder_id()), " is not a ladder of the policy"));
    }
    const v1::LadderStep* step = FindStep(*ladder, rule.step_id());
    if (step == nullptr) {
      return Invalid(where + ".step_id",
                     absl::StrCat(Quoted(rule.step_id()), " is not a step of ladder ",
                                  Quoted(rule.ladder_id())));
    }
    if (step->action() != rule.action()) {
      return Invalid(where + ".action",
                     absl::StrCat(v1::ActionKind_Name(rule.action()), " does not do step ",
                                  Quoted(rule.step_id()), ", a ",
                                  v1::ActionKind_Name(step->action()), " step"));
    }
  }
  if (rule.priority() < -kMaxPriorityBoost || rule.priority() > kMaxPriorityBoost) {
    return Invalid(where + ".priority", absl::StrCat(rule.priority(), " is not in -1000..1000"));
  }
  return absl::OkStatus();
}

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
