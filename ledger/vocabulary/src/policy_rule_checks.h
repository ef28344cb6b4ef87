#pragma once

// Checks of the policy's rules added after escalation_policy.cc's own
// (previous-year rules, earlier triggers that change something), called by
// ValidateEscalationPolicy. Internal to the vocabulary.
#include <string>

#include "absl/status/status.h"
#include "attendance/v1/escalation.pb.h"

namespace attendance::ledger {

// One previous-year rule, its id already checked (`where` names it).
absl::Status CheckPreviousYearRule(const v1::PreviousYearRule& rule,
                                   const v1::EscalationPolicy& policy, const std::string& where);
// A cohort rule's earlier trigger must lower something: the trigger's own
// action or a ladder step that waits on it.
absl::Status CheckEarlierTriggersMatter(const v1::EscalationPolicy& policy,
                                        const std::string& field);

}  // namespace attendance::ledger
