#include "audit_stages.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "ledger/calendar.h"

namespace attendance::services {
namespace {

const v1::Ladder* FindLadder(const v1::EscalationPolicy& policy, const std::string& ladder_id) {
  for (const v1::Ladder& ladder : policy.ladders()) {
    if (ladder.ladder_id() == ladder_id) return &ladder;
  }
  return nullptr;
}

int StepIndex(const v1::Ladder& ladder, const std::string& step_id) {
  for (int i = 0; i < ladder.steps_size(); ++i) {
    if (ladder.steps(i).step_id() == step_id) return i;
  }
  return -1;
}

// Why the step was due on the day it was done: the pupil evaluated as of
// that day with every fact but the letter or action that did it, so the
// step shows as due (if it was) with the model's own explanation.
void Explain(const projections::EscalationState& state, std::string_view school_id,
             std::string_view pupil_id, const v1::StageRecord& record, const std::string& ladder_id,
             v1::StageChange& change) {
  const ledger::Day day = ledger::ParseDate(record.sent_on()).value_or(0);
  ledger::SchoolCalendar scratch;
  projections::EscalationInputs inputs = state.InputsFor(school_id, pupil_id, day, &scratch);
  const std::string done_by = record.action_id().empty()
                                  ? absl::StrCat("letter ", record.step_id())
                                  : absl::StrCat("action ", record.action_id());
  if (inputs.policy == nullptr || inputs.calendar == nullptr) {
    change.set_sentence(absl::StrCat(done_by, " on ", record.sent_on(), ": no policy then"));
    return;
  }
  std::vector<projections::LetterFact> letters;
  std::vector<projections::ActionFact> actions;
  if (inputs.letters != nullptr) {
    std::copy_if(inputs.letters->begin(), inputs.letters->end(), std::back_inserter(letters),
                 [&](const auto& fact) { return fact.position != record.position(); });
  }
  if (inputs.actions != nullptr) {
    std::copy_if(inputs.actions->begin(), inputs.actions->end(), std::back_inserter(actions),
                 [&](const auto& fact) { return fact.position != record.position(); });
  }
  inputs.letters = &letters;
  inputs.actions = &actions;
  inputs.due_only = true;
  const v1::PupilEscalation before = projections::EvaluatePupil(inputs, day);
  change.set_policy_id(before.policy_id());
  change.set_policy_version(before.policy_version());
  change.set_rule_id(record.step_id());
  for (const v1::DueAction& due : before.due()) {
    if (due.rule_id() == record.step_id() && due.ladder_id() == ladder_id) {
      change.set_sentence(due.explanation().sentence());
      return;
    }
  }
  change.set_sentence(absl::StrCat(done_by, " on ", record.sent_on(), ": ", record.step_id(),
                                   " was not due under ", before.policy_id(), " ",
                                   before.policy_version(), " on that day"));
}

}  // namespace

std::vector<v1::TimelineEntry> StageChangeEntries(const projections::EscalationState& state,
                                                  std::string_view school_id,
                                                  std::string_view pupil_id, ledger::Day first,
                                                  ledger::Day last, ledger::Day as_of) {
  std::vector<v1::TimelineEntry> out;
  ledger::SchoolCalendar scratch;
  const projections::EscalationInputs inputs =
      state.InputsFor(school_id, pupil_id, as_of, &scratch);
  if (inputs.policy == nullptr || inputs.calendar == nullptr) return out;
  const v1::PupilEscalation now = projections::EvaluatePupil(inputs, as_of);
  for (const v1::LadderState& ladder_state : now.ladders()) {
    const v1::Ladder* ladder = FindLadder(*inputs.policy, ladder_state.ladder_id());
    if (ladder == nullptr) continue;
    // History is in log order; a letter recorded late for an earlier day
    // moved the stage on that earlier day.
    std::vector<const v1::StageRecord*> records;
    for (const v1::StageRecord& record : ladder_state.history()) records.push_back(&record);
    std::stable_sort(records.begin(), records.end(), [](const auto* a, const auto* b) {
      if (a->sent_on() != b->sent_on()) return a->sent_on() < b->sent_on();
      return a->position() < b->position();
    });
    int stage = -1;
    for (const v1::StageRecord* record : records) {
      const int index = StepIndex(*ladder, record->step_id());
      if (index <= stage) continue;
      const std::string from = stage < 0 ? std::string() : ladder->steps(stage).step_id();
      stage = index;
      const std::optional<ledger::Day> day = ledger::ParseDate(record->sent_on());
      if (!day || *day < first || *day > last) continue;
      v1::TimelineEntry& entry = out.emplace_back();
      entry.set_date(record->sent_on());
      entry.set_position(record->position());
      v1::StageChange& change = *entry.mutable_stage_change();
      change.set_ladder_id(ladder_state.ladder_id());
      change.set_from_stage(from);
      change.set_to_stage(record->step_id());
      change.set_action_id(record->action_id());
      change.set_basis_changed(record->basis_changed());
      change.set_basis_note(record->basis_note());
      Explain(state, school_id, pupil_id, *record, ladder_state.ladder_id(), change);
    }
  }
  return out;
}

}  // namespace attendance::services
