#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "attendance/v1/escalation.pb.h"
#include "attendance/v1/events.pb.h"

namespace attendance::ledger {

// Limits on a policy (ledger_service.proto, SetEscalationPolicyRequest).
inline constexpr int kMaxPolicyBandSets = 16;
inline constexpr int kMaxPolicyBands = 16;
inline constexpr int kMaxPolicyLadders = 16;
inline constexpr int kMaxPolicySteps = 16;
inline constexpr int kMaxPolicyTriggers = 32;
inline constexpr int kMaxPolicyCodes = 16;
// LeaveRules.assessment_windows and school_days_before_assessment.
inline constexpr int kMaxAssessmentWindows = 16;
inline constexpr std::uint32_t kMaxSchoolDaysBeforeAssessment = 60;
inline constexpr std::uint32_t kBasisPointsMax = 10000;
inline constexpr int kMaxPolicyReviewPoints = 16;
inline constexpr int kMaxReviewDates = 12;
inline constexpr int kMaxPolicyImprovementRules = 16;
inline constexpr int kMaxPolicyCohortRules = 8;
inline constexpr int kMaxPolicyPreviousYearRules = 8;
inline constexpr int kMaxPriorityBoost = 1000;

// Checks that a policy is well formed and agrees with itself and with the
// school: ids present and unique, bands of a set not overlapping, every
// `after_step` an earlier step of the same ladder, every `trigger_id` a
// trigger of the policy, every window known (rolling weeks among
// `rolling_weeks`, the school's SchoolSettings.rolling_window_weeks or the
// default 4, 6, 10, 12), codes known, thresholds in range. INVALID_ARGUMENT
// naming the rule, e.g. `policy.ladders[0].steps[2] ("letter_3").after_step:
// "letter_9" is not a step of ladder "attendance_letters"`.
absl::Status ValidateEscalationPolicy(const v1::EscalationPolicy& policy,
                                      const std::vector<std::uint32_t>& rolling_weeks,
                                      absl::string_view field);

// Whether an ActionRecorded of `kind` can do a step whose action is `step`
// (a MEETING step is done by a MEETING_HELD or a PANEL_HELD; a LETTER step
// only by a LetterSent, so by no recorded kind).
bool RecordedKindDoes(v1::ActionKind step, v1::RecordedActionKind kind);
// "MEETING_HELD or PANEL_HELD", or "RecordLetter" for the letter kinds.
std::string RecordedKindsFor(v1::ActionKind step);
// LETTER and POSITIVE_LETTER: what a LetterSent does.
inline bool IsLetterKind(v1::ActionKind step) {
  return step == v1::LETTER || step == v1::POSITIVE_LETTER;
}

}  // namespace attendance::ledger
