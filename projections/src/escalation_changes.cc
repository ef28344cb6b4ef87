#include "projections/escalation_changes.h"

#include <map>
#include <string>
#include <tuple>

#include "ledger/calendar.h"

namespace attendance::projections {
namespace {

// Not the due date: a ladder step's is the day it is evaluated on, so it
// would move every day while the step stays due.
using DueKey = std::tuple<std::string, std::string, int>;

DueKey KeyOf(const v1::DueAction& action) {
  return {action.rule_id(), action.ladder_id(), static_cast<int>(action.action())};
}

std::map<DueKey, const v1::DueAction*> DueOf(const v1::PupilEscalation* escalation) {
  std::map<DueKey, const v1::DueAction*> due;
  if (escalation == nullptr) return due;
  for (const v1::DueAction& action : escalation->due()) due.emplace(KeyOf(action), &action);
  return due;
}

std::map<std::string, const v1::LadderState*> LaddersOf(const v1::PupilEscalation* escalation) {
  std::map<std::string, const v1::LadderState*> ladders;
  if (escalation == nullptr) return ladders;
  for (const v1::LadderState& ladder : escalation->ladders()) {
    ladders.emplace(ladder.ladder_id(), &ladder);
  }
  return ladders;
}

bool SameMonitoring(const v1::LadderState& a, const v1::LadderState& b) {
  if (a.has_monitoring() != b.has_monitoring()) return false;
  const v1::MonitoringPeriod& m = a.monitoring();
  const v1::MonitoringPeriod& n = b.monitoring();
  return std::tie(m.step_id(), m.started_on(), m.ends_on()) ==
             std::tie(n.step_id(), n.started_on(), n.ends_on()) &&
         m.running() == n.running() && m.improved() == n.improved();
}

void Trim(v1::Explanation& explanation) { explanation.clear_sessions(); }

}  // namespace

std::optional<v1::PupilEscalation> EscalationOf(
    const EscalationState& state, std::string_view school_id, std::string_view pupil_id, Day as_of,
    EvaluationCache* cache, const ledger::SchoolCalendar* cached_calendar, int as_of_minute) {
  ledger::SchoolCalendar scratch;
  EscalationInputs inputs = state.InputsFor(school_id, pupil_id, as_of, &scratch);
  inputs.as_of_minute = as_of_minute;
  if (inputs.policy == nullptr || inputs.calendar == nullptr) return std::nullopt;
  if (cache != nullptr && inputs.calendar == cached_calendar) inputs.cache = cache;
  return EvaluatePupil(inputs, as_of);
}

bool DiffEscalation(const v1::PupilEscalation* before, const v1::PupilEscalation* after,
                    v1::EscalationChange& out) {
  v1::EscalationChange change;
  const v1::LadderState empty;
  const auto ladders_before = LaddersOf(before);
  const auto ladders_after = LaddersOf(after);
  std::map<std::string, std::pair<const v1::LadderState*, const v1::LadderState*>> ladders;
  for (const auto& [id, ladder] : ladders_before) ladders[id].first = ladder;
  for (const auto& [id, ladder] : ladders_after) ladders[id].second = ladder;
  for (const auto& [id, pair] : ladders) {
    const v1::LadderState& b = pair.first != nullptr ? *pair.first : empty;
    const v1::LadderState& a = pair.second != nullptr ? *pair.second : empty;
    if (b.stage() == a.stage() && b.since() == a.since() && SameMonitoring(b, a)) continue;
    v1::LadderChange& ladder = *change.add_ladders();
    ladder.set_ladder_id(id);
    ladder.set_stage_before(b.stage());
    ladder.set_stage(a.stage());
    ladder.set_since(a.since());
    if (a.has_monitoring()) {
      *ladder.mutable_monitoring() = a.monitoring();
      Trim(*ladder.mutable_monitoring()->mutable_explanation());
    }
    ladder.set_monitoring_running_before(b.has_monitoring() && b.monitoring().running());
  }
  const auto due_before = DueOf(before);
  const auto due_after = DueOf(after);
  for (const auto& [key, action] : due_after) {
    if (due_before.contains(key)) continue;
    v1::DueAction& added = *change.add_due_added();
    added = *action;
    Trim(*added.mutable_explanation());
  }
  for (const auto& [key, action] : due_before) {
    if (due_after.contains(key)) continue;
    v1::DueAction& removed = *change.add_due_removed();
    removed = *action;
    Trim(*removed.mutable_explanation());
  }
  if (change.ladders_size() == 0 && change.due_added_size() == 0 &&
      change.due_removed_size() == 0) {
    return false;
  }
  if (before != nullptr) change.set_as_of_before(before->as_of());
  if (after != nullptr) change.set_as_of(after->as_of());
  const v1::PupilEscalation* policy = after != nullptr ? after : before;
  change.set_policy_id(policy->policy_id());
  change.set_policy_version(policy->policy_version());
  out = std::move(change);
  return true;
}

}  // namespace attendance::projections
