// ListEscalations and the first-response list (escalation_reports.h).
#include <algorithm>
#include <map>
#include <optional>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "escalation_internal.h"
#include "ledger/text_checks.h"
#include "projections/attendance_queries.h"
#include "projections/escalation_queries.h"
#include "projections/escalation_reports.h"

namespace attendance::projections {
namespace {

constexpr int kMaxCohortFilters = 10;

struct Common {
  const SchoolState* school = nullptr;
  const PolicyRecord* policy = nullptr;
  Day as_of = 0;
  std::uint64_t offset = 0;
  std::uint64_t page_size = 100;
};

// The checks every listing makes, in the order the other queries make them.
absl::StatusOr<Common> CheckCommon(const EscalationState& state, const std::string& school_id,
                                   const std::string& as_of, std::uint32_t page_size,
                                   std::uint32_t max_page, const std::string& page_token,
                                   Day today) {
  Common c;
  if (absl::Status s = ledger::CheckId(school_id, "school_id"); !s.ok()) return s;
  c.school = state.attendance().FindSchool(school_id);
  if (c.school == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("school_id: ", ledger::Quoted(school_id), " is not a known school"));
  }
  if (as_of.empty()) {
    c.as_of = today;
  } else {
    absl::StatusOr<Day> day = ledger::CheckDate(as_of, "as_of");
    if (!day.ok()) return day.status();
    c.as_of = *day;
  }
  if (page_size > max_page) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: ", page_size, " is more than the limit of ", max_page));
  }
  if (page_size != 0) c.page_size = page_size;
  if (!page_token.empty() && !absl::SimpleAtoi(page_token, &c.offset)) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token: ", ledger::Quoted(page_token), " is not a token from this call"));
  }
  c.policy = state.PolicyForEvaluation(school_id, c.as_of);
  if (c.policy == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("school ", ledger::Quoted(school_id), " has no escalation policy on ",
                     ledger::FormatDate(c.as_of), " (SetEscalationPolicy sets one)"));
  }
  return c;
}

absl::Status CheckCohort(const google::protobuf::RepeatedPtrField<v1::CohortFilter>& cohort) {
  if (cohort.size() > kMaxCohortFilters) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cohort: ", cohort.size(), " filters is more than the limit of ", kMaxCohortFilters));
  }
  for (int i = 0; i < cohort.size(); ++i) {
    const v1::CohortFilter& f = cohort[i];
    if (f.attribute() == v1::COHORT_ATTRIBUTE_UNSPECIFIED ||
        !v1::CohortAttribute_IsValid(f.attribute())) {
      return absl::InvalidArgumentError(
          absl::StrCat("cohort[", i, "].attribute: ", static_cast<int>(f.attribute()),
                       " is not a cohort attribute"));
    }
    if (f.value().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("cohort[", i, "].value: empty"));
    }
  }
  return absl::OkStatus();
}

bool MatchesCohort(const PupilState& pupil, Day as_of,
                   const google::protobuf::RepeatedPtrField<v1::CohortFilter>& cohort) {
  if (cohort.empty()) return true;
  const v1::Pupil* details = pupil.AttributesAt(as_of, as_of);
  v1::Pupil none;
  if (details == nullptr) details = &none;
  return std::all_of(cohort.begin(), cohort.end(), [&](const v1::CohortFilter& f) {
    return AttributeValue(*details, f.attribute()) == f.value();
  });
}

int StepIndex(const v1::Ladder& ladder, const std::string& step_id) {
  for (int i = 0; i < ladder.steps_size(); ++i) {
    if (ladder.steps(i).step_id() == step_id) return i;
  }
  return -1;
}

}  // namespace

absl::Status CheckDueActionFilters(const v1::EscalationPolicy& policy,
                                   const v1::ListDueActionsRequest& request) {
  if (absl::Status s = CheckCohort(request.cohort()); !s.ok()) return s;
  if (request.stage().empty()) return absl::OkStatus();
  if (request.ladder_id().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("stage: ", ledger::Quoted(request.stage()),
                                                   " needs the ladder_id it is a stage of"));
  }
  const v1::Ladder* ladder = nullptr;
  for (const v1::Ladder& l : policy.ladders()) {
    if (l.ladder_id() == request.ladder_id()) ladder = &l;
  }
  if (ladder == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ladder_id: ", ledger::Quoted(request.ladder_id()), " is not a ladder of policy ",
        ledger::Quoted(policy.policy_id()), " version ", ledger::Quoted(policy.version())));
  }
  if (request.stage() != "none" && StepIndex(*ladder, request.stage()) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("stage: ", ledger::Quoted(request.stage()), " is not a step of ladder ",
                     ledger::Quoted(request.ladder_id()), " (or \"none\")"));
  }
  return absl::OkStatus();
}

bool DueCohortMatches(const PupilState& pupil, Day as_of,
                      const v1::ListDueActionsRequest& request) {
  return MatchesCohort(pupil, as_of, request.cohort());
}

bool DueStageMatches(const v1::PupilEscalation& result, const v1::ListDueActionsRequest& request) {
  if (request.stage().empty()) return true;
  for (const v1::LadderState& l : result.ladders()) {
    if (l.ladder_id() != request.ladder_id()) continue;
    return request.stage() == "none" ? l.stage().empty() : l.stage() == request.stage();
  }
  return false;
}

absl::StatusOr<v1::ListEscalationsResponse> QueryEscalations(
    const EscalationState& state, const v1::ListEscalationsRequest& request, Day today) {
  absl::StatusOr<Common> common =
      CheckCommon(state, request.school_id(), request.as_of(), request.page_size(),
                  kMaxEscalationsPage, request.page_token(), today);
  if (!common.ok()) return common.status();
  const v1::EscalationPolicy& policy = common->policy->policy;
  if (!request.ladder_id().empty()) {
    const bool known =
        std::any_of(policy.ladders().begin(), policy.ladders().end(),
                    [&](const v1::Ladder& l) { return l.ladder_id() == request.ladder_id(); });
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ladder_id: ", ledger::Quoted(request.ladder_id()), " is not a ladder of policy ",
          ledger::Quoted(policy.policy_id()), " version ", ledger::Quoted(policy.version())));
    }
  }
  if (!request.stage().empty() && request.stage() != "none") {
    const bool known =
        std::any_of(policy.ladders().begin(), policy.ladders().end(), [&](const v1::Ladder& l) {
          return (request.ladder_id().empty() || l.ladder_id() == request.ladder_id()) &&
                 StepIndex(l, request.stage()) >= 0;
        });
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat("stage: ", ledger::Quoted(request.stage()), " is not a step of ",
                       request.ladder_id().empty()
                           ? "any ladder"
                           : absl::StrCat("ladder ", ledger::Quoted(request.ladder_id())),
                       " (or \"none\")"));
    }
  }
  if (absl::Status s = CheckCohort(request.cohort()); !s.ok()) return s;

  const Day as_of = common->as_of;
  ledger::SchoolCalendar scratch;
  std::optional<EvaluationCache> cache;
  std::optional<EscalationInputs> in;
  struct Row {
    int ladder = 0;
    int stage = -1;
    v1::PupilStage row;
  };
  std::vector<Row> rows;
  std::map<std::pair<int, int>, std::uint32_t> counts;  // (ladder, stage index)
  for (const PupilState& pupil : common->school->pupils) {
    if (!pupil.OnRollDuring(as_of, as_of, as_of)) continue;
    if (!MatchesCohort(pupil, as_of, request.cohort())) continue;
    if (!in) {  // the school's parts, resolved once
      in = state.InputsFor(request.school_id(), pupil.id, as_of, &scratch);
      cache.emplace(*in->calendar);
      in->cache = &*cache;
      in->due_only = true;  // stages and due steps; no near misses or bands
      in->explain = false;  // a row has no explanation
    }
    state.SetPupil(request.school_id(), pupil.id, *in);
    const v1::PupilEscalation result = EvaluatePupil(*in, as_of);
    for (int l = 0; l < policy.ladders_size(); ++l) {
      const v1::Ladder& ladder = policy.ladders(l);
      if (!request.ladder_id().empty() && ladder.ladder_id() != request.ladder_id()) continue;
      const v1::LadderState* ls = nullptr;
      for (const v1::LadderState& s : result.ladders()) {
        if (s.ladder_id() == ladder.ladder_id()) ls = &s;
      }
      if (ls == nullptr) continue;
      const int stage = ls->stage().empty() ? -1 : StepIndex(ladder, ls->stage());
      ++counts[{l, stage}];
      if (request.stage() == "none" ? !ls->stage().empty()
                                    : !request.stage().empty() && ls->stage() != request.stage()) {
        continue;
      }
      Row row{l, stage, {}};
      row.row.set_pupil_id(pupil.id);
      row.row.set_ladder_id(ladder.ladder_id());
      row.row.set_stage(ls->stage());
      row.row.set_since(ls->since());
      if (!ls->monitoring().step_id().empty()) {
        row.row.set_monitoring_ends_on(ls->monitoring().ends_on());
        row.row.set_monitoring_running(ls->monitoring().running());
      }
      for (const v1::DueAction& due : result.due()) {
        if (due.ladder_id() == ladder.ladder_id() && due.action() != v1::REVIEW) {
          row.row.add_due_steps(due.rule_id());
        }
      }
      row.row.set_basis_changed(
          std::any_of(ls->history().begin(), ls->history().end(),
                      [](const v1::StageRecord& r) { return r.basis_changed(); }));
      rows.push_back(std::move(row));
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::tie(a.ladder, b.stage, a.row.pupil_id()) <
           std::tie(b.ladder, a.stage, b.row.pupil_id());
  });
  v1::ListEscalationsResponse response;
  response.set_total(static_cast<std::uint32_t>(rows.size()));
  response.set_policy_version(policy.version());
  const std::uint64_t offset = common->offset;
  const std::uint64_t size = common->page_size;
  for (std::uint64_t i = offset; i < rows.size() && i < offset + size; ++i) {
    *response.add_pupils() = std::move(rows[i].row);
  }
  if (offset + size < rows.size()) response.set_next_page_token(absl::StrCat(offset + size));
  for (const auto& [key, pupils] : counts) {
    v1::StageCount& count = *response.add_counts();
    const v1::Ladder& ladder = policy.ladders(key.first);
    count.set_ladder_id(ladder.ladder_id());
    if (key.second >= 0) count.set_stage(ladder.steps(key.second).step_id());
    count.set_pupils(pupils);
  }
  return response;
}

namespace {

bool ContactedOn(const std::vector<ActionFact>* actions, Day first, Day last) {
  if (actions == nullptr) return false;
  return std::any_of(actions->begin(), actions->end(), [&](const ActionFact& a) {
    return (a.kind == v1::CALL_MADE || a.kind == v1::HOME_VISIT_MADE) && a.happened_on >= first &&
           a.happened_on <= last;
  });
}

// Child-protection plan, child in need, looked after; and SEND where a
// cohort rule of the policy puts SEND pupils' calls or home visits first
// (seed 002: "CP, CIC, SEN priority phone calls").
std::vector<std::string> VulnerableCohorts(const v1::Pupil* details,
                                           const v1::EscalationPolicy& policy) {
  std::vector<std::string> out;
  if (details == nullptr) return out;
  if (details->child_protection_plan()) out.push_back("child_protection_plan");
  if (details->child_in_need()) out.push_back("child_in_need");
  if (details->looked_after()) out.push_back("looked_after");
  if (details->send() != v1::SEN_SUPPORT && details->send() != v1::EHC_PLAN) return out;
  for (const v1::CohortRule& rule : policy.cohort_rules()) {
    const bool send = std::find(rule.cohorts().begin(), rule.cohorts().end(), v1::COHORT_SEND) !=
                      rule.cohorts().end();
    const bool contact = std::any_of(rule.actions().begin(), rule.actions().end(),
                                     [](int a) { return a == v1::CALL || a == v1::HOME_VISIT; });
    if (send && contact && rule.priority_boost() > 0) {
      out.push_back("send");
      break;
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<v1::ListFirstResponseResponse> QueryFirstResponse(
    const EscalationState& state, const v1::ListFirstResponseRequest& request, Day today,
    int now_minute) {
  absl::StatusOr<Common> common =
      CheckCommon(state, request.school_id(), request.as_of(), request.page_size(),
                  kMaxFirstResponsePage, request.page_token(), today);
  if (!common.ok()) return common.status();
  const Day day = common->as_of;
  absl::StatusOr<int> minute = AsOfMinute(request.as_of_time(), day, today, now_minute);
  if (!minute.ok()) return minute.status();
  const v1::EscalationPolicy& policy = common->policy->policy;
  if (!policy.has_first_response()) {
    return absl::FailedPreconditionError(
        absl::StrCat("policy ", ledger::Quoted(policy.policy_id()), " version ",
                     ledger::Quoted(policy.version()),
                     " sets no first_response (the school keeps no first-response list)"));
  }
  const v1::FirstResponse& rule = policy.first_response();
  ledger::SchoolCalendar scratch;
  const ledger::SchoolCalendar& calendar = common->school->CalendarAsOf(day, &scratch);
  const v1::SchoolSettings settings = common->school->SettingsAsOf(day);
  // Open through its close minute (23:59 with no close time), as the
  // ledger takes marks.
  const int am_close =
      ledger::ParseTimeOfDay(settings.am_register_closes()).value_or(kEndOfDay - 1);
  v1::ListFirstResponseResponse response;
  response.set_policy_version(policy.version());
  response.set_register_open(*minute <= am_close);
  if (!calendar.IsSchoolDay(day)) return response;
  const CodeIndex n_code = CodeIndexOf("N");
  const std::string contact_by =
      rule.contact_by().empty() ? ledger::FormatDate(day)
                                : absl::StrCat(ledger::FormatDate(day), " ", rule.contact_by());
  const EscalationState::SchoolFacts* facts = state.FindSchool(request.school_id());
  struct Entry {
    bool vulnerable = false;
    bool visit = false;
    v1::FirstResponseEntry entry;
  };
  std::vector<Entry> entries;
  for (const PupilState& pupil : common->school->pupils) {
    if (!pupil.OnRollDuring(day, day, day)) continue;
    const v1::Pupil* details = pupil.AttributesAt(day, day);
    const int year_group = details != nullptr ? details->year_group() : 0;
    // "No reason" this morning: an N, or no mark once the register closed.
    auto no_reason = [&](escalation_internal::Codes& codes, Day d, bool closed) {
      if (calendar.IsClosed(d, v1::AM, year_group)) return false;
      const CodeIndex code = codes.At(d, 0);
      return code == n_code || (code == 0 && closed);
    };
    escalation_internal::Codes codes(&pupil, day);
    if (!no_reason(codes, day, !response.register_open())) continue;
    const std::vector<ActionFact>* actions = nullptr;
    if (facts != nullptr) {
      auto it = facts->actions.find(pupil.id);
      if (it != facts->actions.end()) actions = &it->second;
    }
    if (ContactedOn(actions, day, day)) continue;  // done today
    // The run of school days with no reason, this one included.
    std::uint32_t run = 1;
    Day run_start = day;
    for (Day d = day - 1; d > day - 30 && run < 10; --d) {
      if (!calendar.IsSchoolDay(d)) continue;
      if (!no_reason(codes, d, true)) break;
      ++run;
      run_start = d;
    }
    const std::vector<std::string> cohorts = VulnerableCohorts(details, policy);
    Entry e;
    e.vulnerable = !cohorts.empty();
    e.visit = rule.home_visit_on_day() > 0 && run >= rule.home_visit_on_day() &&
              !ContactedOn(actions, run_start, day - 1) &&
              (!rule.home_visit_vulnerable_only() || e.vulnerable);
    v1::FirstResponseEntry& out = e.entry;
    out.set_pupil_id(pupil.id);
    out.set_code(std::string(CodeName(codes.At(day, 0))));
    out.set_action(e.visit ? v1::HOME_VISIT : rule.action());
    out.set_contact_by(contact_by);
    out.set_vulnerable(e.vulnerable);
    for (const std::string& c : cohorts) out.add_cohorts(c);
    out.set_day_of_absence(run);
    out.set_priority(rule.priority() + (e.vulnerable ? 10 : 0));
    out.set_sentence(absl::StrCat(
        "no reason for absence (", out.code().empty() ? "no mark" : out.code(),
        ") by the close of the morning register on ", ledger::FormatDate(day),
        run > 1 ? absl::StrCat(", day ", run, " in a row") : "",
        e.vulnerable ? absl::StrCat("; ", absl::StrJoin(cohorts, ", ")) : "",
        e.visit ? "; no call recorded since the run began" : "", " -> ",
        escalation_internal::ActionWord(out.action()),
        e.visit || rule.contact_by().empty() ? " today" : absl::StrCat(" by ", rule.contact_by())));
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::make_tuple(!a.vulnerable, !a.visit, -static_cast<int>(a.entry.day_of_absence()),
                           a.entry.pupil_id()) <
           std::make_tuple(!b.vulnerable, !b.visit, -static_cast<int>(b.entry.day_of_absence()),
                           b.entry.pupil_id());
  });
  response.set_total(static_cast<std::uint32_t>(entries.size()));
  const std::uint64_t offset = common->offset;
  const std::uint64_t size = common->page_size;
  for (std::uint64_t i = offset; i < entries.size() && i < offset + size; ++i) {
    *response.add_entries() = std::move(entries[i].entry);
  }
  if (offset + size < entries.size()) response.set_next_page_token(absl::StrCat(offset + size));
  return response;
}

}  // namespace attendance::projections
