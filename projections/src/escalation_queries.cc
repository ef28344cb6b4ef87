#include "projections/escalation_queries.h"

#include <algorithm>
#include <optional>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "escalation_batch.h"
#include "ledger/text_checks.h"
#include "projections/escalation_reports.h"

namespace attendance::projections {
namespace {

absl::StatusOr<Day> AsOf(const std::string& as_of, Day today) {
  if (as_of.empty()) return today;
  return ledger::CheckDate(as_of, "as_of");
}

absl::Status CheckSchoolKnown(const EscalationState& state, const std::string& school_id) {
  if (absl::Status s = ledger::CheckId(school_id, "school_id"); !s.ok()) return s;
  if (state.attendance().FindSchool(school_id) == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("school_id: ", ledger::Quoted(school_id), " is not a known school"));
  }
  return absl::OkStatus();
}

absl::Status NoPolicy(const std::string& school_id, Day as_of) {
  return absl::NotFoundError(
      absl::StrCat("school ", ledger::Quoted(school_id), " has no escalation policy on ",
                   ledger::FormatDate(as_of), " (SetEscalationPolicy sets one)"));
}

}  // namespace

absl::StatusOr<int> AsOfMinute(const std::string& as_of_time, Day as_of, Day today,
                               int now_minute) {
  if (!as_of_time.empty()) {
    const std::optional<int> minute = ledger::ParseTimeOfDay(as_of_time);
    if (!minute) {
      return absl::InvalidArgumentError(
          absl::StrCat("as_of_time: ", ledger::Quoted(as_of_time), " is not a time of day HH:MM"));
    }
    return *minute;
  }
  return as_of == today ? now_minute : kEndOfDay;
}

absl::StatusOr<v1::GetEscalationPolicyResponse> QueryEscalationPolicy(
    const EscalationState& state, const v1::GetEscalationPolicyRequest& request, Day today) {
  if (absl::Status s = CheckSchoolKnown(state, request.school_id()); !s.ok()) return s;
  absl::StatusOr<Day> as_of = AsOf(request.as_of(), today);
  if (!as_of.ok()) return as_of.status();
  const PolicyRecord* record = state.PolicyAsOf(request.school_id(), *as_of);
  if (record == nullptr) return NoPolicy(request.school_id(), *as_of);
  v1::GetEscalationPolicyResponse response;
  *response.mutable_policy() = record->policy;
  response.set_recorded_on(ledger::FormatDate(record->recorded));
  response.set_position(record->position);
  for (const PolicyRecord& r : state.FindSchool(request.school_id())->policies) {
    if (r.recorded > *as_of) break;
    v1::PolicyHistoryEntry& entry = *response.add_history();
    entry.set_policy_id(r.policy.policy_id());
    entry.set_version(r.policy.version());
    entry.set_recorded_on(ledger::FormatDate(r.recorded));
    entry.set_position(r.position);
  }
  return response;
}

absl::StatusOr<v1::PupilEscalation> QueryPupilEscalation(
    const EscalationState& state, const v1::GetPupilEscalationRequest& request, Day today,
    int now_minute) {
  if (absl::Status s = CheckSchoolKnown(state, request.school_id()); !s.ok()) return s;
  if (absl::Status s = ledger::CheckId(request.pupil_id(), "pupil_id"); !s.ok()) return s;
  absl::StatusOr<Day> as_of = AsOf(request.as_of(), today);
  if (!as_of.ok()) return as_of.status();
  const SchoolState* school = state.attendance().FindSchool(request.school_id());
  const PupilState* pupil = school->FindPupil(request.pupil_id());
  if (pupil == nullptr || !pupil->KnownAsOf(*as_of)) {
    return absl::NotFoundError(
        absl::StrCat("pupil_id: ", ledger::Quoted(request.pupil_id()), " is not a pupil of school ",
                     ledger::Quoted(request.school_id()), " on ", ledger::FormatDate(*as_of)));
  }
  absl::StatusOr<int> minute = AsOfMinute(request.as_of_time(), *as_of, today, now_minute);
  if (!minute.ok()) return minute.status();
  ledger::SchoolCalendar scratch;
  EscalationInputs in = state.InputsFor(request.school_id(), request.pupil_id(), *as_of, &scratch);
  in.as_of_minute = *minute;
  if (in.policy == nullptr) return NoPolicy(request.school_id(), *as_of);
  v1::PupilEscalation result = EvaluatePupil(in, *as_of);
  result.set_school_id(request.school_id());
  return result;
}

absl::StatusOr<v1::ListDueActionsResponse> QueryDueActions(const EscalationState& state,
                                                           const v1::ListDueActionsRequest& request,
                                                           Day today, int now_minute) {
  if (absl::Status s = CheckSchoolKnown(state, request.school_id()); !s.ok()) return s;
  absl::StatusOr<Day> as_of = AsOf(request.as_of(), today);
  if (!as_of.ok()) return as_of.status();
  if (request.page_size() > kMaxDueActionsPage) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_size: ", request.page_size(), " is more than the limit of ", kMaxDueActionsPage));
  }
  if (!v1::ActionKind_IsValid(request.action())) {
    return absl::InvalidArgumentError(
        absl::StrCat("action: ", static_cast<int>(request.action()), " is not an action"));
  }
  if (!request.ladder_id().empty()) {
    if (absl::Status s = ledger::CheckId(request.ladder_id(), "ladder_id"); !s.ok()) return s;
  }
  std::uint64_t offset = 0;
  if (!request.page_token().empty() && !absl::SimpleAtoi(request.page_token(), &offset)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_token: ", ledger::Quoted(request.page_token()), " is not a token from this call"));
  }
  absl::StatusOr<int> minute = AsOfMinute(request.as_of_time(), *as_of, today, now_minute);
  if (!minute.ok()) return minute.status();
  const PolicyRecord* record = state.PolicyForEvaluation(request.school_id(), *as_of);
  if (record == nullptr) return NoPolicy(request.school_id(), *as_of);
  if (absl::Status s = CheckDueActionFilters(record->policy, request); !s.ok()) return s;
  const SchoolState* school = state.attendance().FindSchool(request.school_id());
  // Each pupil's evaluation is kept between calls (escalation_cache.h),
  // without explanations: the list sorts and filters by the due actions'
  // other fields, and only the page's pupils are evaluated again with them
  // (the same due actions in the same order, explained). The pupils not
  // kept are evaluated on both cores (escalation_batch.h).
  EscalationResultCache::Key key{*as_of, RegisterBucket(school->SettingsAsOf(*as_of), *minute),
                                 record->position, true, false};
  struct Due {
    const v1::DueAction* action;
    const PupilState* pupil;
    bool superseded;
    int index;  // in the result's due or superseded
  };
  std::vector<Due> due;
  auto consider = [&](const PupilState& pupil, const v1::DueAction& action, bool superseded,
                      int index) {
    if (request.action() != v1::ACTION_KIND_UNSPECIFIED && action.action() != request.action()) {
      return;
    }
    if (!request.ladder_id().empty() && action.ladder_id() != request.ladder_id()) return;
    due.push_back({&action, &pupil, superseded, index});
  };
  std::vector<const PupilState*> listed;
  for (const PupilState& pupil : school->pupils) {
    if (!pupil.OnRollDuring(*as_of, *as_of, *as_of)) continue;
    if (!DueCohortMatches(pupil, *as_of, request)) continue;
    listed.push_back(&pupil);
  }
  std::vector<EscalationResultCache::Result> results =
      EvaluatePupils(state, request.school_id(), *as_of, *minute, key, listed);
  for (std::size_t p = 0; p < listed.size(); ++p) {
    const PupilState& pupil = *listed[p];
    const v1::PupilEscalation& result = *results[p];
    if (!DueStageMatches(result, request)) continue;
    for (int i = 0; i < result.due_size(); ++i) consider(pupil, result.due(i), false, i);
    if (request.include_superseded()) {
      for (int i = 0; i < result.superseded_size(); ++i) {
        consider(pupil, result.superseded(i), true, i);
      }
    }
  }
  std::sort(due.begin(), due.end(), [](const Due& x, const Due& y) {
    const v1::DueAction* a = x.action;
    const v1::DueAction* b = y.action;
    if (a->priority() != b->priority()) return a->priority() > b->priority();
    return std::tie(a->due_on(), a->pupil_id(), a->rule_id(), x.superseded, x.index) <
           std::tie(b->due_on(), b->pupil_id(), b->rule_id(), y.superseded, y.index);
  });
  const std::uint64_t size = request.page_size() == 0 ? 100 : request.page_size();
  v1::ListDueActionsResponse response;
  response.set_total(static_cast<std::uint32_t>(due.size()));
  response.set_policy_version(record->policy.version());
  // The page's pupils, each once, evaluated again with explanations.
  key.explain = true;
  absl::flat_hash_map<const PupilState*, std::size_t> page_index;
  std::vector<const PupilState*> page;
  for (std::uint64_t i = offset; i < due.size() && i < offset + size; ++i) {
    if (page_index.try_emplace(due[i].pupil, page.size()).second) page.push_back(due[i].pupil);
  }
  const std::vector<EscalationResultCache::Result> explained_results =
      EvaluatePupils(state, request.school_id(), *as_of, *minute, key, page);
  for (std::uint64_t i = offset; i < due.size() && i < offset + size; ++i) {
    const EscalationResultCache::Result& explained = explained_results[page_index[due[i].pupil]];
    const auto& list = due[i].superseded ? explained->superseded() : explained->due();
    // The same evaluation, explained: the same actions at the same places.
    if (due[i].index >= list.size() || list[due[i].index].rule_id() != due[i].action->rule_id()) {
      return absl::InternalError(absl::StrCat("pupil ", due[i].pupil->id,
                                              ": the explained evaluation has other due actions"));
    }
    *response.add_actions() = list[due[i].index];
  }
  if (offset + size < due.size()) response.set_next_page_token(absl::StrCat(offset + size));
  return response;
}

}  // namespace attendance::projections
