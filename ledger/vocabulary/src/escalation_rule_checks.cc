#include "escalation_rule_checks.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "ledger/codes.h"
#include "ledger/escalation_policy.h"
#include "ledger/status_macros.h"
#include "ledger/text_checks.h"
#include "ledger/types.h"

namespace attendance::ledger::policy_checks {

absl::Status Invalid(const std::string& where, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

// "policy.ladders[0].steps[2] ("letter_3")": the rule by position and name.
std::string Rule(absl::string_view field, absl::string_view kind, int i, const std::string& id) {
  return absl::StrCat(field, ".", kind, "[", i, "] (", Quoted(id), ")");
}

absl::Status CheckCount(int size, int limit, const std::string& field) {
  if (size > limit) {
    return Invalid(field, absl::StrCat(size, " entries is more than the limit of ", limit));
  }
  return absl::OkStatus();
}

absl::Status CheckWindow(const v1::PolicyWindow& window, const std::vector<std::uint32_t>& weeks,
                         const std::string& field) {
  switch (window.kind()) {
    case v1::POLICY_YEAR_TO_DATE:
    case v1::POLICY_TERM_TO_DATE:
    case v1::POLICY_HALF_TERM_TO_DATE:
      if (window.weeks() != 0) {
        return Invalid(field + ".weeks", "only a POLICY_ROLLING_SCHOOL_WEEKS window has weeks");
      }
      return absl::OkStatus();
    case v1::POLICY_ROLLING_SCHOOL_WEEKS:
      if (std::find(weeks.begin(), weeks.end(), window.weeks()) == weeks.end()) {
        std::string known;
        for (std::uint32_t w : weeks) absl::StrAppend(&known, known.empty() ? "" : ", ", w);
        return Invalid(field + ".weeks", absl::StrCat(window.weeks(),
                                                      " school weeks is not one of the school's "
                                                      "rolling windows (",
                                                      known, ")"));
      }
      return absl::OkStatus();
    default:
      return Invalid(field + ".kind",
                     absl::StrCat(static_cast<int>(window.kind()), " is not a window"));
  }
}

absl::Status CheckCondition(const v1::AttendanceCondition& condition,
                            const std::vector<std::uint32_t>& weeks, const std::string& field) {
  RETURN_IF_ERROR(CheckWindow(condition.window(), weeks, field + ".window"));
  if (condition.basis_points() > kBasisPointsMax) {
    return Invalid(field + ".basis_points",
                   absl::StrCat(condition.basis_points(), " is more than 10000 (100%)"));
  }
  if (condition.comparison() == v1::COMPARISON_UNSPECIFIED ||
      !v1::Comparison_IsValid(condition.comparison())) {
    return Invalid(field + ".comparison", absl::StrCat(static_cast<int>(condition.comparison()),
                                                       " is not BELOW, AT_OR_BELOW, AT_OR_ABOVE "
                                                       "or ABOVE"));
  }
  return absl::OkStatus();
}

// A band as a half-open interval over 2 * basis points, so that inclusive
// and exclusive edges compare as integers: [lo, hi).
std::pair<std::uint32_t, std::uint32_t> Interval(const v1::Band& band) {
  const std::uint32_t lo = 2 * band.lower_basis_points() + (band.lower_inclusive() ? 0 : 1);
  const std::uint32_t hi = 2 * band.upper_basis_points() + (band.upper_inclusive() ? 1 : 0);
  return {lo, hi};
}

// A leave rule's window: unspecified is allowed (year to date, or for the
// unauthorised-absence rule, no such rule).
absl::Status CheckLeaveWindow(const v1::PolicyWindow& window,
                              const std::vector<std::uint32_t>& weeks, const std::string& field) {
  if (window.kind() == v1::POLICY_WINDOW_UNSPECIFIED && window.weeks() == 0) {
    return absl::OkStatus();
  }
  return CheckWindow(window, weeks, field);
}

absl::Status CheckLeaveRules(const v1::LeaveRules& rules, const std::vector<std::uint32_t>& weeks,
                             const std::string& field) {
  RETURN_IF_ERROR(CheckCount(rules.assessment_windows_size(), kMaxAssessmentWindows,
                             field + ".assessment_windows"));
  for (int i = 0; i < rules.assessment_windows_size(); ++i) {
    const v1::AssessmentWindow& w = rules.assessment_windows(i);
    const std::string rule = absl::StrCat(field, ".assessment_windows[", i, "]");
    RETURN_IF_ERROR(CheckText(w.name(), rule + ".name", true, kMaxNameLength));
    auto first = CheckDate(w.first_day(), rule + ".first_day");
    if (!first.ok()) return first.status();
    auto last = CheckDate(w.last_day(), rule + ".last_day");
    if (!last.ok()) return last.status();
    if (*last < *first) {
      return Invalid(rule + ".last_day",
                     absl::StrCat(w.last_day(), " is before first_day ", w.first_day()));
    }
  }
  if (rules.school_days_before_assessment() > kMaxSchoolDaysBeforeAssessment) {
    return Invalid(field + ".school_days_before_assessment",
                   absl::StrCat(rules.school_days_before_assessment(), " is more than ",
                                kMaxSchoolDaysBeforeAssessment));
  }
  RETURN_IF_ERROR(
      CheckLeaveWindow(rules.unauthorised_window(), weeks, field + ".unauthorised_window"));
  RETURN_IF_ERROR(CheckLeaveWindow(rules.authorised_window(), weeks, field + ".authorised_window"));
  RETURN_IF_ERROR(CheckLeaveWindow(rules.attendance_window(), weeks, field + ".attendance_window"));
  if (rules.max_unauthorised_sessions() > 760) {
    return Invalid(field + ".max_unauthorised_sessions",
                   absl::StrCat(rules.max_unauthorised_sessions(), " is more than 760"));
  }
  for (auto [bp, name] :
       {std::pair{rules.max_authorised_basis_points(), ".max_authorised_basis_points"},
        std::pair{rules.min_attendance_basis_points(), ".min_attendance_basis_points"}}) {
    if (bp > 10000) return Invalid(field + name, absl::StrCat(bp, " is more than 10000 (100%)"));
  }
  if (rules.notice_days() > 366) {
    return Invalid(field + ".notice_days", absl::StrCat(rules.notice_days(), " is more than 366"));
  }
  if (!v1::LeaveRecommendation_IsValid(rules.when_no_rule_refuses()) ||
      rules.when_no_rule_refuses() == v1::LEAVE_REFUSE) {
    return Invalid(field + ".when_no_rule_refuses",
                   absl::StrCat(static_cast<int>(rules.when_no_rule_refuses()),
                                " is not LEAVE_APPROVE or LEAVE_REFER_TO_HEADTEACHER"));
  }
  return absl::OkStatus();
}

absl::Status CheckBandSet(const v1::BandSet& set, const std::vector<std::uint32_t>& weeks,
                          const std::string& rule) {
  RETURN_IF_ERROR(CheckWindow(set.window(), weeks, rule + ".window"));
  RETURN_IF_ERROR(CheckCount(set.bands_size(), kMaxPolicyBands, rule + ".bands"));
  absl::flat_hash_set<std::string> ids;
  for (int b = 0; b < set.bands_size(); ++b) {
    const v1::Band& band = set.bands(b);
    const std::string where = Rule(rule, "bands", b, band.band_id());
    RETURN_IF_ERROR(CheckId(band.band_id(), where + ".band_id"));
    RETURN_IF_ERROR(CheckText(band.name(), where + ".name", false));
    if (!ids.insert(band.band_id()).second) return Invalid(where, "repeats a band id");
    if (band.upper_basis_points() > kBasisPointsMax) {
      return Invalid(where + ".upper_basis_points",
                     absl::StrCat(band.upper_basis_points(), " is more than 10000 (100%)"));
    }
    auto [lo, hi] = Interval(band);
    if (lo >= hi) return Invalid(where, "is empty (its lower edge is not below its upper edge)");
    for (int o = 0; o < b; ++o) {
      auto [olo, ohi] = Interval(set.bands(o));
      if (lo < ohi && olo < hi) {
        return Invalid(where, absl::StrCat("overlaps band ", Quoted(set.bands(o).band_id())));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckTrigger(const v1::CountedTrigger& trigger,
                          const std::vector<std::uint32_t>& weeks, const std::string& rule) {
  RETURN_IF_ERROR(CheckText(trigger.description(), rule + ".description", false));
  if (trigger.kind() == v1::TRIGGER_KIND_UNSPECIFIED || !v1::TriggerKind_IsValid(trigger.kind())) {
    return Invalid(rule + ".kind", absl::StrCat(static_cast<int>(trigger.kind()),
                                                " is not COUNT_IN_WINDOW, CONSECUTIVE, "
                                                "N_CODE_UNRESOLVED or NO_MARK_AFTER_CLOSE"));
  }
  if (!v1::ActionKind_IsValid(trigger.action())) {
    return Invalid(rule + ".action",
                   absl::StrCat(static_cast<int>(trigger.action()), " is not an action"));
  }
  if (trigger.once_per_spell() && trigger.kind() != v1::COUNT_IN_WINDOW) {
    return Invalid(rule + ".once_per_spell", "only a COUNT_IN_WINDOW trigger counts spells");
  }
  if (trigger.kind() == v1::N_CODE_UNRESOLVED) return absl::OkStatus();
  RETURN_IF_ERROR(CheckWindow(trigger.window(), weeks, rule + ".window"));
  if (trigger.kind() == v1::NO_MARK_AFTER_CLOSE) {
    if (!trigger.codes().empty()) {
      return Invalid(rule + ".codes", "a NO_MARK_AFTER_CLOSE trigger counts sessions with no mark");
    }
    if (trigger.unit() != v1::SESSIONS) return Invalid(rule + ".unit", "must be SESSIONS");
    if (trigger.threshold() == 0 || trigger.threshold() > 760) {
      return Invalid(rule + ".threshold", absl::StrCat(trigger.threshold(), " is not in 1..760"));
    }
    return absl::OkStatus();
  }
  if (trigger.unit() == v1::COUNT_UNIT_UNSPECIFIED || !v1::CountUnit_IsValid(trigger.unit())) {
    return Invalid(rule + ".unit", "must be SESSIONS or WHOLE_DAYS");
  }
  if (trigger.codes().empty()) return Invalid(rule + ".codes", "names no code");
  RETURN_IF_ERROR(CheckCount(trigger.codes_size(), kMaxPolicyCodes, rule + ".codes"));
  for (int c = 0; c < trigger.codes_size(); ++c) {
    if (!IsKnownCode(trigger.codes(c))) {
      return Invalid(absl::StrCat(rule, ".codes[", c, "]"),
                     absl::StrCat(Quoted(trigger.codes(c)), " is not an attendance code"));
    }
  }
  if (trigger.threshold() == 0 || trigger.threshold() > 760) {
    return Invalid(rule + ".threshold",
                   absl::StrCat(trigger.threshold(), " is not in 1..760 (two years of sessions)"));
  }
  if (trigger.near_miss() >= trigger.threshold()) {
    return Invalid(rule + ".near_miss",
                   absl::StrCat(trigger.near_miss(), " is not below the threshold (",
                                trigger.threshold(), ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckStep(const v1::LadderStep& step, const v1::Ladder& ladder, int index,
                       const absl::flat_hash_set<std::string>& triggers,
                       const std::vector<std::uint32_t>& weeks, const std::string& rule) {
  RETURN_IF_ERROR(CheckId(step.step_id(), rule + ".step_id"));
  RETURN_IF_ERROR(CheckText(step.description(), rule + ".description", false));
  if (step.action() == v1::ACTION_KIND_UNSPECIFIED || !v1::ActionKind_IsValid(step.action())) {
    return Invalid(rule + ".action",
                   absl::StrCat(static_cast<int>(step.action()), " is not an action"));
  }
  if (!step.after_step().empty()) {
    bool earlier = false;
    for (int s = 0; s < index; ++s)
      earlier = earlier || ladder.steps(s).step_id() == step.after_step();
    if (!earlier) {
      return Invalid(rule + ".after_step",
                     absl::StrCat(Quoted(step.after_step()), " is not an earlier step of ladder ",
                                  Quoted(ladder.ladder_id())));
    }
  } else if (index > 0) {
    return Invalid(rule + ".after_step", "only a ladder's first step may follow no step");
  }
  if (!step.trigger_id().empty() && !triggers.contains(step.trigger_id())) {
    return Invalid(rule + ".trigger_id",
                   absl::StrCat(Quoted(step.trigger_id()), " is not a trigger of the policy"));
  }
  if (step.has_attendance())
    RETURN_IF_ERROR(CheckCondition(step.attendance(), weeks, rule + ".attendance"));
  if (!step.has_attendance() && step.trigger_id().empty() && !step.no_improvement()) {
    return Invalid(rule, "has no condition (attendance, trigger_id or no_improvement)");
  }
  if (step.no_improvement()) {
    const v1::LadderStep* previous = nullptr;
    for (int s = 0; s < index; ++s) {
      if (ladder.steps(s).step_id() == step.after_step()) previous = &ladder.steps(s);
    }
    if (previous == nullptr || previous->monitoring_school_days() == 0) {
      return Invalid(rule + ".no_improvement",
                     "needs an after_step with a monitoring period (monitoring_school_days)");
    }
  }
  if (step.monitoring_school_days() > 200) {
    return Invalid(rule + ".monitoring_school_days",
                   absl::StrCat(step.monitoring_school_days(), " is more than 200"));
  }
  if (step.monitoring_school_days() > 0) {
    switch (step.improvement_kind()) {
      case v1::PERIOD_ATTENDANCE_MEETS:
        if (!step.has_improvement()) {
          return Invalid(rule + ".improvement", "PERIOD_ATTENDANCE_MEETS needs a level");
        }
        if (step.improvement().basis_points() > kBasisPointsMax ||
            step.improvement().comparison() == v1::COMPARISON_UNSPECIFIED ||
            !v1::Comparison_IsValid(step.improvement().comparison())) {
          return Invalid(rule + ".improvement", "needs basis_points <= 10000 and a comparison");
        }
        break;
      case v1::YEAR_TO_DATE_RISES:
        break;
      default:
        return Invalid(rule + ".improvement_kind",
                       "a monitoring period needs PERIOD_ATTENDANCE_MEETS or YEAR_TO_DATE_RISES");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckFirstResponse(const v1::FirstResponse& first, const std::string& rule) {
  RETURN_IF_ERROR(CheckText(first.description(), rule + ".description", false));
  if (!first.contact_by().empty() && !ParseTimeOfDay(first.contact_by())) {
    return Invalid(rule + ".contact_by",
                   absl::StrCat(Quoted(first.contact_by()), " is not a time of day HH:MM"));
  }
  if (first.action() == v1::ACTION_KIND_UNSPECIFIED || !v1::ActionKind_IsValid(first.action())) {
    return Invalid(rule + ".action",
                   absl::StrCat(static_cast<int>(first.action()), " is not an action"));
  }
  if (first.home_visit_on_day() == 1 || first.home_visit_on_day() > 10) {
    return Invalid(rule + ".home_visit_on_day",
                   absl::StrCat(first.home_visit_on_day(), " is not 0 (none) or in 2..10"));
  }
  return absl::OkStatus();
}

// "10-17": a month and day that exist in some year (29 February does).
bool IsMonthDay(const std::string& text) {
  if (text.size() != 5 || text[2] != '-') return false;
  for (int i : {0, 1, 3, 4}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  const int month = (text[0] - '0') * 10 + (text[1] - '0');
  const int day = (text[3] - '0') * 10 + (text[4] - '0');
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month >= 1 && month <= 12 && day >= 1 && day <= kDays[month - 1];
}

const v1::Ladder* FindLadder(const v1::EscalationPolicy& policy, const std::string& id) {
  for (const v1::Ladder& l : policy.ladders()) {
    if (l.ladder_id() == id) return &l;
  }
  return nullptr;
}

absl::Status CheckLadderId(const v1::EscalationPolicy& policy, const std::string& id,
                           const std::string& field) {
  if (FindLadder(policy, id) == nullptr) {
    return Invalid(field, absl::StrCat(Quoted(id), " is not a ladder of the policy"));
  }
  return absl::OkStatus();
}

absl::Status CheckPriority(std::int32_t priority, const std::string& field) {
  if (priority < -kMaxPriorityBoost || priority > kMaxPriorityBoost) {
    return Invalid(field, absl::StrCat(priority, " is not in -1000..1000"));
  }
  return absl::OkStatus();
}

}  // namespace attendance::ledger::policy_checks
