#pragma once

// The checks of one escalation-policy rule each (windows, conditions, band
// sets, leave rules, counted triggers, ladder steps, the first response,
// ladder ids, priorities), each naming the field and value it refuses.
// escalation_policy.cc checks the policy as a whole with them. Internal to
// the vocabulary.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "attendance/v1/escalation.pb.h"

namespace attendance::ledger::policy_checks {

absl::Status Invalid(const std::string& where, const std::string& what);
std::string Rule(absl::string_view field, absl::string_view kind, int i, const std::string& id);
absl::Status CheckCount(int size, int limit, const std::string& field);
absl::Status CheckCondition(const v1::AttendanceCondition& condition,
                            const std::vector<std::uint32_t>& weeks, const std::string& field);
absl::Status CheckLeaveRules(const v1::LeaveRules& rules, const std::vector<std::uint32_t>& weeks,
                             const std::string& field);
absl::Status CheckBandSet(const v1::BandSet& set, const std::vector<std::uint32_t>& weeks,
                          const std::string& rule);
absl::Status CheckTrigger(const v1::CountedTrigger& trigger,
                          const std::vector<std::uint32_t>& weeks, const std::string& rule);
absl::Status CheckStep(const v1::LadderStep& step, const v1::Ladder& ladder, int index,
                       const absl::flat_hash_set<std::string>& triggers,
                       const std::vector<std::uint32_t>& weeks, const std::string& rule);
absl::Status CheckFirstResponse(const v1::FirstResponse& first, const std::string& rule);
bool IsMonthDay(const std::string& text);
const v1::Ladder* FindLadder(const v1::EscalationPolicy& policy, const std::string& id);
absl::Status CheckLadderId(const v1::EscalationPolicy& policy, const std::string& id,
                           const std::string& field);
absl::Status CheckPriority(std::int32_t priority, const std::string& field);

}  // namespace attendance::ledger::policy_checks
