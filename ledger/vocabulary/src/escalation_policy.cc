#include "ledger/escalation_policy.h"

#include <algorithm>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "escalation_rule_checks.h"
#include "ledger/codes.h"
#include "ledger/status_macros.h"
#include "ledger/text_checks.h"
#include "ledger/types.h"
#include "policy_rule_checks.h"

namespace attendance::ledger {
namespace {

using policy_checks::CheckBandSet;
using policy_checks::CheckCondition;
using policy_checks::CheckCount;
using policy_checks::CheckFirstResponse;
using policy_checks::CheckLadderId;
using policy_checks::CheckLeaveRules;
using policy_checks::CheckPriority;
using policy_checks::CheckStep;
using policy_checks::CheckTrigger;
using policy_checks::FindLadder;
using policy_checks::Invalid;
using policy_checks::IsMonthDay;
using policy_checks::Rule;

absl::Status CheckReviewPoint(const v1::ReviewPoint& review, const v1::EscalationPolicy& policy,
                              const std::string& rule) {
  RETURN_IF_ERROR(CheckText(review.description(), rule + ".description", false));
  if (review.dates().empty() && !review.half_term_ends() && !review.term_ends()) {
    return Invalid(rule, "names no date (dates, half_term_ends or term_ends)");
  }
  RETURN_IF_ERROR(CheckCount(review.dates_size(), kMaxReviewDates, rule + ".dates"));
  for (int d = 0; d < review.dates_size(); ++d) {
    if (!IsMonthDay(review.dates(d))) {
      return Invalid(absl::StrCat(rule, ".dates[", d, "]"),
                     absl::StrCat(Quoted(review.dates(d)), " is not a month and day MM-DD"));
    }
  }
  // No ladder: the point only times improvement rules (praise at term ends).
  if (!review.ladder_id().empty()) {
    RETURN_IF_ERROR(CheckLadderId(policy, review.ladder_id(), rule + ".ladder_id"));
  }
  return CheckPriority(review.priority(), rule + ".priority");
}

absl::Status CheckImprovementRule(const v1::ImprovementRule& rule,
                                  const v1::EscalationPolicy& policy,
                                  const absl::flat_hash_set<std::string>& reviews,
                                  const std::vector<std::uint32_t>& weeks,
                                  const std::string& where) {
  RETURN_IF_ERROR(CheckText(rule.description(), where + ".description", false));
  if (rule.action() == v1::ACTION_KIND_UNSPECIFIED || !v1::ActionKind_IsValid(rule.action())) {
    return Invalid(where + ".action",
                   absl::StrCat(static_cast<int>(rule.action()), " is not an action"));
  }
  if (!rule.has_attendance() && rule.band_set_id().empty()) {
    return Invalid(where, "says not what counts as improved (attendance or band_set_id)");
  }
  if (rule.has_attendance()) {
    RETURN_IF_ERROR(CheckCondition(rule.attendance(), weeks, where + ".attendance"));
    if (rule.attendance().comparison() == v1::BELOW ||
        rule.attendance().comparison() == v1::AT_OR_BELOW) {
      return Invalid(where + ".attendance.comparison",
                     "improvement is attendance AT_OR_ABOVE or ABOVE a level");
    }
  }
  if (!rule.band_set_id().empty()) {
    const v1::BandSet* set = nullptr;
    for (const v1::BandSet& b : policy.band_sets()) {
      if (b.band_set_id() == rule.band_set_id()) set = &b;
    }
    if (set == nullptr) {
      return Invalid(where + ".band_set_id",
                     absl::StrCat(Quoted(rule.band_set_id()), " is not a band set of the policy"));
    }
    if (rule.band_ids().empty()) return Invalid(where + ".band_ids", "names no band");
    for (int b = 0; b < rule.band_ids_size(); ++b) {
      const bool known =
          std::any_of(set->bands().begin(), set->bands().end(),
                      [&](const v1::Band& x) { return x.band_id() == rule.band_ids(b); });
      if (!known) {
        return Invalid(absl::StrCat(where, ".band_ids[", b, "]"),
                       absl::StrCat(Quoted(rule.band_ids(b)), " is not a band of band set ",
                                    Quoted(rule.band_set_id())));
      }
    }
  } else if (!rule.band_ids().empty()) {
    return Invalid(where + ".band_ids", "bands need their band_set_id");
  }
  if (!rule.review_id().empty() && !reviews.contains(rule.review_id())) {
    return Invalid(where + ".review_id",
                   absl::StrCat(Quoted(rule.review_id()), " is not a review point of the policy"));
  }
  if (rule.ladder_id().empty()) {
    if (rule.review_id().empty()) {
      return Invalid(where + ".review_id",
                     "a rule for every pupil (no ladder_id) is judged at a review point, else it "
                     "would be due every day");
    }
    if (rule.step_down() || !rule.from_steps().empty()) {
      return Invalid(where + ".step_down", "stepping down needs the rule's ladder_id");
    }
  } else {
    const v1::Ladder* ladder = FindLadder(policy, rule.ladder_id());
    if (ladder == nullptr) {
      return Invalid(where + ".ladder_id",
                     absl::StrCat(Quoted(rule.ladder_id()), " is not a ladder of the policy"));
    }
    for (int f = 0; f < rule.from_steps_size(); ++f) {
      const bool known =
          std::any_of(ladder->steps().begin(), ladder->steps().end(),
                      [&](const v1::LadderStep& x) { return x.step_id() == rule.from_steps(f); });
      if (!known) {
        return Invalid(absl::StrCat(where, ".from_steps[", f, "]"),
                       absl::StrCat(Quoted(rule.from_steps(f)), " is not a step of ladder ",
                                    Quoted(rule.ladder_id())));
      }
    }
  }
  return CheckPriority(rule.priority(), where + ".priority");
}

absl::Status CheckCohortRule(const v1::CohortRule& rule, const v1::EscalationPolicy& policy,
                             const std::string& where) {
  RETURN_IF_ERROR(CheckText(rule.description(), where + ".description", false));
  if (rule.cohorts().empty()) return Invalid(where + ".cohorts", "names no cohort");
  for (int i = 0; i < rule.cohorts_size(); ++i) {
    if (rule.cohorts(i) == v1::PUPIL_COHORT_UNSPECIFIED ||
        !v1::PupilCohort_IsValid(rule.cohorts(i))) {
      return Invalid(absl::StrCat(where, ".cohorts[", i, "]"),
                     absl::StrCat(static_cast<int>(rule.cohorts(i)), " is not a cohort"));
    }
  }
  for (int i = 0; i < rule.actions_size(); ++i) {
    if (rule.actions(i) == v1::ACTION_KIND_UNSPECIFIED ||
        !v1::ActionKind_IsValid(rule.actions(i))) {
      return Invalid(absl::StrCat(where, ".actions[", i, "]"),
                     absl::StrCat(static_cast<int>(rule.actions(i)), " is not an action"));
    }
  }
  if (rule.priority_boost() != 0 && rule.actions().empty()) {
    return Invalid(where + ".actions", "a priority_boost names the actions it raises");
  }
  if (rule.priority_boost() == 0 && rule.earlier_triggers().empty()) {
    return Invalid(where, "changes nothing (priority_boost or earlier_triggers)");
  }
  RETURN_IF_ERROR(CheckPriority(rule.priority_boost(), where + ".priority_boost"));
  for (int i = 0; i < rule.earlier_triggers_size(); ++i) {
    const v1::TriggerThreshold& e = rule.earlier_triggers(i);
    const std::string field = absl::StrCat(where, ".earlier_triggers[", i, "]");
    const v1::CountedTrigger* trigger = nullptr;
    for (const v1::CountedTrigger& t : policy.triggers()) {
      if (t.trigger_id() == e.trigger_id()) trigger = &t;
    }
    if (trigger == nullptr) {
      return Invalid(field + ".trigger_id",
                     absl::StrCat(Quoted(e.trigger_id()), " is not a trigger of the policy"));
    }
    if (trigger->kind() == v1::N_CODE_UNRESOLVED) {
      return Invalid(field + ".trigger_id", "an N_CODE_UNRESOLVED trigger has no threshold");
    }
    if (e.threshold() == 0 || e.threshold() >= trigger->threshold()) {
      return Invalid(
          field + ".threshold",
          absl::StrCat(e.threshold(), " is not in 1..", trigger->threshold() - 1,
                       " (below the trigger's own threshold, ", trigger->threshold(), ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool RecordedKindDoes(v1::ActionKind step, v1::RecordedActionKind kind) {
  switch (step) {
    case v1::MEETING:
      return kind == v1::MEETING_HELD || kind == v1::PANEL_HELD;
    case v1::HOME_VISIT:
      return kind == v1::HOME_VISIT_MADE;
    case v1::CALL:
      return kind == v1::CALL_MADE;
    case v1::REFERRAL:
      return kind == v1::REFERRAL_MADE || kind == v1::PARENTING_CONTRACT ||
             kind == v1::EDUCATION_SUPERVISION_ORDER;
    case v1::PENALTY_NOTICE_CONSIDERATION:
      // Considered, not necessarily issued: a notice requested or issued, or
      // the parent warned at a meeting or on a call instead (tools/history).
      return kind == v1::PENALTY_NOTICE_REQUESTED || kind == v1::PENALTY_NOTICE_ISSUED ||
             kind == v1::MEETING_HELD || kind == v1::CALL_MADE;
    case v1::LA_RETURN:
      return kind == v1::REFERRAL_MADE;
    case v1::RESOLVE_N_CODE:
      return kind == v1::CALL_MADE || kind == v1::HOME_VISIT_MADE;
    case v1::CME_CHECKS:
      return kind == v1::CALL_MADE || kind == v1::HOME_VISIT_MADE || kind == v1::REFERRAL_MADE;
    case v1::REVIEW:
      return kind == v1::MEETING_HELD || kind == v1::PANEL_HELD || kind == v1::CALL_MADE ||
             kind == v1::HOME_VISIT_MADE;
    default:  // letters (RecordLetter), register not taken (a mark)
      return false;
  }
}

std::string RecordedKindsFor(v1::ActionKind step) {
  if (IsLetterKind(step)) return "RecordLetter";
  std::string kinds;
  const int last = v1::RecordedActionKind_MAX;
  std::vector<std::string> names;
  for (int k = 1; k <= last; ++k) {
    if (!v1::RecordedActionKind_IsValid(k)) continue;
    const auto kind = static_cast<v1::RecordedActionKind>(k);
    if (RecordedKindDoes(step, kind)) names.push_back(v1::RecordedActionKind_Name(kind));
  }
  if (names.empty()) return "no recorded action";
  for (std::size_t i = 0; i < names.size(); ++i) {
    absl::StrAppend(&kinds, i == 0 ? "" : (i + 1 == names.size() ? " or " : ", "), names[i]);
  }
  return kinds;
}

absl::Status ValidateEscalationPolicy(const v1::EscalationPolicy& policy,
                                      const std::vector<std::uint32_t>& rolling_weeks,
                                      absl::string_view field) {
  const std::string f(field);
  RETURN_IF_ERROR(CheckId(policy.policy_id(), f + ".policy_id"));
  RETURN_IF_ERROR(CheckText(policy.version(), f + ".version", true, kMaxNameLength));
  RETURN_IF_ERROR(CheckText(policy.source(), f + ".source", false));
  RETURN_IF_ERROR(CheckCount(policy.band_sets_size(), kMaxPolicyBandSets, f + ".band_sets"));
  RETURN_IF_ERROR(CheckCount(policy.ladders_size(), kMaxPolicyLadders, f + ".ladders"));
  RETURN_IF_ERROR(CheckCount(policy.triggers_size(), kMaxPolicyTriggers, f + ".triggers"));
  // Ids are unique across the whole policy: explanations and worklists name
  // a rule by its id alone.
  absl::flat_hash_set<std::string> ids;
  auto unique = [&](const std::string& id, const std::string& where) {
    return ids.insert(id).second
               ? absl::OkStatus()
               : Invalid(where, absl::StrCat(Quoted(id), " is already the id of another rule"));
  };
  for (int i = 0; i < policy.band_sets_size(); ++i) {
    const v1::BandSet& set = policy.band_sets(i);
    const std::string rule = Rule(f, "band_sets", i, set.band_set_id());
    RETURN_IF_ERROR(CheckId(set.band_set_id(), rule + ".band_set_id"));
    RETURN_IF_ERROR(unique(set.band_set_id(), rule + ".band_set_id"));
    RETURN_IF_ERROR(CheckBandSet(set, rolling_weeks, rule));
  }
  absl::flat_hash_set<std::string> triggers;
  for (int i = 0; i < policy.triggers_size(); ++i) {
    const v1::CountedTrigger& trigger = policy.triggers(i);
    const std::string rule = Rule(f, "triggers", i, trigger.trigger_id());
    RETURN_IF_ERROR(CheckId(trigger.trigger_id(), rule + ".trigger_id"));
    RETURN_IF_ERROR(unique(trigger.trigger_id(), rule + ".trigger_id"));
    RETURN_IF_ERROR(CheckTrigger(trigger, rolling_weeks, rule));
    triggers.insert(trigger.trigger_id());
  }
  for (int i = 0; i < policy.ladders_size(); ++i) {
    const v1::Ladder& ladder = policy.ladders(i);
    const std::string rule = Rule(f, "ladders", i, ladder.ladder_id());
    RETURN_IF_ERROR(CheckId(ladder.ladder_id(), rule + ".ladder_id"));
    RETURN_IF_ERROR(unique(ladder.ladder_id(), rule + ".ladder_id"));
    RETURN_IF_ERROR(CheckText(ladder.description(), rule + ".description", false));
    if (ladder.steps().empty()) return Invalid(rule + ".steps", "the ladder has no step");
    RETURN_IF_ERROR(CheckCount(ladder.steps_size(), kMaxPolicySteps, rule + ".steps"));
    for (int s = 0; s < ladder.steps_size(); ++s) {
      const v1::LadderStep& step = ladder.steps(s);
      const std::string step_rule = Rule(rule, "steps", s, step.step_id());
      RETURN_IF_ERROR(CheckStep(step, ladder, s, triggers, rolling_weeks, step_rule));
      RETURN_IF_ERROR(unique(step.step_id(), step_rule + ".step_id"));
    }
  }
  RETURN_IF_ERROR(
      CheckCount(policy.review_points_size(), kMaxPolicyReviewPoints, f + ".review_points"));
  RETURN_IF_ERROR(CheckCount(policy.improvement_rules_size(), kMaxPolicyImprovementRules,
                             f + ".improvement_rules"));
  RETURN_IF_ERROR(
      CheckCount(policy.cohort_rules_size(), kMaxPolicyCohortRules, f + ".cohort_rules"));
  absl::flat_hash_set<std::string> reviews;
  for (int i = 0; i < policy.review_points_size(); ++i) {
    const v1::ReviewPoint& review = policy.review_points(i);
    const std::string rule = Rule(f, "review_points", i, review.review_id());
    RETURN_IF_ERROR(CheckId(review.review_id(), rule + ".review_id"));
    RETURN_IF_ERROR(unique(review.review_id(), rule + ".review_id"));
    RETURN_IF_ERROR(CheckReviewPoint(review, policy, rule));
    reviews.insert(review.review_id());
  }
  for (int i = 0; i < policy.improvement_rules_size(); ++i) {
    const v1::ImprovementRule& improvement = policy.improvement_rules(i);
    const std::string rule = Rule(f, "improvement_rules", i, improvement.rule_id());
    RETURN_IF_ERROR(CheckId(improvement.rule_id(), rule + ".rule_id"));
    RETURN_IF_ERROR(unique(improvement.rule_id(), rule + ".rule_id"));
    RETURN_IF_ERROR(CheckImprovementRule(improvement, policy, reviews, rolling_weeks, rule));
  }
  for (int i = 0; i < policy.cohort_rules_size(); ++i) {
    const v1::CohortRule& cohort = policy.cohort_rules(i);
    const std::string rule = Rule(f, "cohort_rules", i, cohort.rule_id());
    RETURN_IF_ERROR(CheckId(cohort.rule_id(), rule + ".rule_id"));
    RETURN_IF_ERROR(unique(cohort.rule_id(), rule + ".rule_id"));
    RETURN_IF_ERROR(CheckCohortRule(cohort, policy, rule));
  }
  RETURN_IF_ERROR(CheckCount(policy.previous_year_rules_size(), kMaxPolicyPreviousYearRules,
                             f + ".previous_year_rules"));
  for (int i = 0; i < policy.previous_year_rules_size(); ++i) {
    const v1::PreviousYearRule& year_rule = policy.previous_year_rules(i);
    const std::string rule = Rule(f, "previous_year_rules", i, year_rule.rule_id());
    RETURN_IF_ERROR(CheckId(year_rule.rule_id(), rule + ".rule_id"));
    RETURN_IF_ERROR(unique(year_rule.rule_id(), rule + ".rule_id"));
    RETURN_IF_ERROR(CheckPreviousYearRule(year_rule, policy, rule));
  }
  RETURN_IF_ERROR(CheckEarlierTriggersMatter(policy, f));
  if (policy.has_first_response()) {
    RETURN_IF_ERROR(CheckFirstResponse(policy.first_response(), f + ".first_response"));
  }
  RETURN_IF_ERROR(CheckLeaveRules(policy.leave_rules(), rolling_weeks, f + ".leave_rules"));
  return absl::OkStatus();
}

}  // namespace attendance::ledger
