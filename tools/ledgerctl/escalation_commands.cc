// Subcommands of attendance.v1.Escalation, one per RPC, and set-policy
// (Ledger.SetEscalationPolicy), which writes what they read.
#include <grpcpp/client_context.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "attendance/v1/escalation_service.grpc.pb.h"
#include "attendance/v1/ledger_service.grpc.pb.h"
#include "command_table.h"
#include "common.h"

namespace attendance::ledgerctl {
namespace {

namespace v1 = ::attendance::v1;

const Option kSchool{"school", "ID", "school id (required)"};
const Option kAsOf{"as-of", "YYYY-MM-DD", "evaluate as of the end of this day (default: today)"};
const Option kMinPosition{"min-position", "N",
                          "read your own writes: wait until the answer reflects this position"};

std::uint64_t MinPosition(const Args& args) {
  return static_cast<std::uint64_t>(args.Int("min-position", 0, 0, INT64_MAX));
}

// Empty for a trigger that only feeds ladder steps.
std::string ActionText(v1::ActionKind kind) {
  return kind == v1::ACTION_KIND_UNSPECIFIED ? "" : EnumName(v1::ActionKind_descriptor(), kind);
}

// A previous-year rule's "what": whom it holds for and what sending it does,
// e.g. "...; AT_OR_BELOW 90.00% last year, at least 20 sessions, due
// through 09-30, does concern_letter on stages".
std::string PreviousYearText(const v1::PreviousYearRule& rule) {
  const v1::AttendanceCondition& a = rule.attendance();
  std::string text =
      absl::StrCat(rule.description(), rule.description().empty() ? "" : "; ",
                   EnumName(v1::Comparison_descriptor(), a.comparison()), " ",
                   absl::StrFormat("%.2f%%", a.basis_points() / 100.0), " last year");
  if (a.min_possible_sessions() > 0) {
    absl::StrAppend(&text, ", at least ", a.min_possible_sessions(), " sessions");
  }
  if (!rule.due_through().empty()) absl::StrAppend(&text, ", due through ", rule.due_through());
  if (!rule.step_id().empty()) {
    absl::StrAppend(&text, ", does ", rule.step_id(), " on ", rule.ladder_id());
  }
  return text;
}

int SetPolicy(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::SetEscalationPolicyRequest request;
  request.set_school_id(args.Required("school"));
  ReadMessageFile(args.Required("file"), *request.mutable_policy());
  // Setting a policy back to an earlier version must be written again.
  request.set_request_id(RequestIdFlag(args, RandomRequestId()));
  auto stub = NewStub<v1::Ledger>(invocation);
  grpc::ClientContext context;
  invocation.connection.Prepare(context);
  v1::WriteResponse response;
  const grpc::Status status = stub->SetEscalationPolicy(&context, request, &response);
  if (!status.ok()) return ReportRpcError(status, "SetEscalationPolicy", invocation.err);
  if (!invocation.json) {
    invocation.out << "policy " << request.policy().policy_id() << " version "
                   << request.policy().version() << ": ";
  }
  return PrintWriteResponse(invocation, response, response.position(), response.stream_version(),
                            response.replayed(), request.request_id());
}

int GetPolicy(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::GetEscalationPolicyRequest request;
  request.set_school_id(args.Required("school"));
  request.set_as_of(args.Get("as-of"));
  request.set_min_position(MinPosition(args));
  auto stub = NewStub<v1::Escalation>(invocation);
  grpc::ClientContext context;
  invocation.connection.Prepare(context);
  v1::GetEscalationPolicyResponse response;
  const grpc::Status status = stub->GetEscalationPolicy(&context, request, &response);
  if (!status.ok()) return ReportRpcError(status, "GetEscalationPolicy", invocation.err);
  if (invocation.json) {
    PrintJson(response, invocation.out);
    return kExitOk;
  }
  const v1::EscalationPolicy& policy = response.policy();
  invocation.out << "policy " << policy.policy_id() << " version " << policy.version()
                 << ", recorded on " << response.recorded_on() << " (position "
                 << response.position() << ")";
  if (!policy.source().empty()) invocation.out << ", from " << policy.source();
  invocation.out << "\n";
  Table rules({"rule", "id", "action", "priority", "what"});
  for (const v1::BandSet& set : policy.band_sets()) {
    std::vector<std::string> bands;
    for (const v1::Band& band : set.bands()) bands.push_back(band.band_id());
    rules.Add({"band set", set.band_set_id(), "", "", absl::StrJoin(bands, ", ")});
  }
  for (const v1::Ladder& ladder : policy.ladders()) {
    rules.Add(
        {"ladder", ladder.ladder_id(), "", absl::StrCat(ladder.priority()), ladder.description()});
    for (const v1::LadderStep& step : ladder.steps()) {
      rules.Add({"  step", step.step_id(), ActionText(step.action()), absl::StrCat(step.priority()),
                 step.description()});
    }
  }
  for (const v1::CountedTrigger& trigger : policy.triggers()) {
    rules.Add({"trigger", trigger.trigger_id(), ActionText(trigger.action()),
               absl::StrCat(trigger.priority()), trigger.description()});
  }
  for (const v1::PreviousYearRule& rule : policy.previous_year_rules()) {
    rules.Add({"previous year", rule.rule_id(), ActionText(rule.action()),
               absl::StrCat(rule.priority()), PreviousYearText(rule)});
  }
  for (const v1::ReviewPoint& review : policy.review_points()) {
    rules.Add({"review point", review.review_id(), ActionText(v1::REVIEW),
               absl::StrCat(review.priority()), review.description()});
  }
  for (const v1::ImprovementRule& rule : policy.improvement_rules()) {
    rules.Add({"improvement", rule.rule_id(), ActionText(rule.action()),
               absl::StrCat(rule.priority()), rule.description()});
  }
  for (const v1::CohortRule& rule : policy.cohort_rules()) {
    rules.Add({"cohort rule", rule.rule_id(), "", absl::StrCat("+", rule.priority_boost()),
               rule.description()});
  }
  rules.Print(invocation.out);
  invocation.out << "\n";
  Table history({"history: policy", "version", "recorded on", "position"});
  for (const v1::PolicyHistoryEntry& entry : response.history()) {
    history.Add(
        {entry.policy_id(), entry.version(), entry.recorded_on(), absl::StrCat(entry.position())});
  }
  history.Print(invocation.out);
  return kExitOk;
}

std::vector<std::string> DueRow(const v1::DueAction& due) {
  return {due.pupil_id(),
          due.rule_id(),
          due.ladder_id(),
          ActionText(due.action()),
          due.due_on(),
          absl::StrCat(due.priority()),
          due.explanation().sentence()};
}
const std::vector<std::string> kDueHeader = {"pupil",  "rule",     "ladder", "action",
                                             "due on", "priority", "why"};

int PupilEscalation(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::GetPupilEscalationRequest request;
  request.set_school_id(args.Required("school"));
  request.set_pupil_id(args.Required("pupil"));
  request.set_as_of(args.Get("as-of"));
  request.set_min_position(MinPosition(args));
  auto stub = NewStub<v1::Escalation>(invocation);
  grpc::ClientContext context;
  invocation.connection.Prepare(context);
  v1::PupilEscalation response;
  const grpc::Status status = stub->GetPupilEscalation(&context, request, &response);
  if (!status.ok()) return ReportRpcError(status, "GetPupilEscalation", invocation.err);
  if (invocation.json) {
    PrintJson(response, invocation.out);
    return kExitOk;
  }
  std::ostream& out = invocation.out;
  out << response.pupil_id() << " at " << response.school_id() << ", as of " << response.as_of()
      << ", policy " << response.policy_id() << " version " << response.policy_version() << "\n";
  Table ladders({"ladder", "stage", "since", "letters sent", "monitoring"});
  for (const v1::LadderState& ladder : response.ladders()) {
    std::vector<std::string> sent;
    for (const v1::StageRecord& record : ladder.history()) {
      sent.push_back(absl::StrCat(record.step_id(), " ", record.sent_on(),
                                  record.basis_changed() ? " (basis changed)" : ""));
    }
    std::string monitoring;
    if (!ladder.monitoring().step_id().empty()) {
      const v1::MonitoringPeriod& m = ladder.monitoring();
      monitoring = absl::StrCat(m.step_id(), " ", m.started_on(), "..", m.ends_on(),
                                m.running() ? " running" : (m.improved() ? " improved" : " ended"));
    }
    ladders.Add({ladder.ladder_id(), ladder.stage().empty() ? "(not started)" : ladder.stage(),
                 ladder.since(), absl::StrJoin(sent, "; "), monitoring});
  }
  ladders.Print(out);
  out << "\n";
  Table due(kDueHeader);
  for (const v1::DueAction& action : response.due()) due.Add(DueRow(action));
  if (due.empty()) {
    out << "no action due\n";
  } else {
    due.Print(out);
  }
  if (!response.near_misses().empty()) {
    out << "\n";
    Table near({"near miss", "ladder", "to go", "why"});
    for (const v1::NearMiss& miss : response.near_misses()) {
      near.Add({miss.rule_id(), miss.ladder_id(), absl::StrCat(miss.remaining()),
                miss.explanation().sentence()});
    }
    near.Print(out);
  }
  if (!response.bands().empty()) {
    out << "\n";
    Table bands({"band set", "band", "why"});
    for (const v1::BandPlacement& band : response.bands()) {
      bands.Add({band.band_set_id(), band.band_id().empty() ? "(no band)" : band.band_id(),
                 band.explanation().sentence()});
    }
    bands.Print(out);
  }
  return kExitOk;
}

int DueActions(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::ListDueActionsRequest request;
  request.set_school_id(args.Required("school"));
  request.set_as_of(args.Get("as-of"));
  if (args.Has("kind")) {
    request.set_action(static_cast<v1::ActionKind>(
        ParseEnumFlag(args, "kind", args.Get("kind"), v1::ActionKind_descriptor())));
  }
  request.set_ladder_id(args.Get("ladder"));
  request.set_stage(args.Get("stage"));
  for (const std::string& filter : args.All("filter")) {
    const size_t eq = filter.find('=');
    if (eq == std::string::npos) args.Fail("--filter: \"" + filter + "\" is not ATTRIBUTE=VALUE");
    v1::CohortFilter* f = request.add_cohort();
    f->set_attribute(static_cast<v1::CohortAttribute>(
        ParseEnumFlag(args, "filter", filter.substr(0, eq), v1::CohortAttribute_descriptor())));
    f->set_value(filter.substr(eq + 1));
  }
  request.set_page_size(static_cast<std::uint32_t>(args.Int("page-size", 0, 0, 1000)));
  request.set_page_token(args.Get("page-token"));
  request.set_min_position(MinPosition(args));
  // Without --page-size or --page-token: every page, as one answer.
  const bool all_pages = !args.Has("page-size") && !args.Has("page-token");
  auto stub = NewStub<v1::Escalation>(invocation);
  v1::ListDueActionsResponse all;
  bool first_page = true;
  while (true) {
    grpc::ClientContext context;
    invocation.connection.Prepare(context);
    v1::ListDueActionsResponse page;
    const grpc::Status status = stub->ListDueActions(&context, request, &page);
    if (!status.ok()) return ReportRpcError(status, "ListDueActions", invocation.err);
    if (first_page) {
      all = std::move(page);
      first_page = false;
    } else {
      for (v1::DueAction& action : *page.mutable_actions()) *all.add_actions() = std::move(action);
      all.set_next_page_token(page.next_page_token());
    }
    if (!all_pages || all.next_page_token().empty()) break;
    request.set_page_token(all.next_page_token());
  }
  if (invocation.json) {
    PrintJson(all, invocation.out);
    return kExitOk;
  }
  invocation.out << all.total() << " actions due, policy version " << all.policy_version() << "\n";
  Table table(kDueHeader);
  for (const v1::DueAction& action : all.actions()) table.Add(DueRow(action));
  table.Print(invocation.out);
  if (!all.next_page_token().empty()) {
    invocation.out << "more: --page-token " << all.next_page_token() << "\n";
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> EscalationCommands() {
  const std::string group = "attendance.v1.Escalation (and Ledger.SetEscalationPolicy)";
  return {
      {"set-policy",
       group,
       "SetEscalationPolicy: replaces the school's escalation policy from today",
       "",
       {kSchool,
        {"file", "FILE",
         "an attendance.v1.EscalationPolicy in protobuf text format (policies/*.textproto) or "
         "JSON (required)"},
        {"request-id", "ID",
         "idempotency key: a retry with the same id writes nothing (default: a new random id, "
         "printed)"}},
       SetPolicy},
      {"get-policy",
       group,
       "GetEscalationPolicy: the policy in force on a day, its rules and its history",
       "",
       {kSchool, kAsOf, kMinPosition},
       GetPolicy},
      {"pupil-escalation",
       group,
       "GetPupilEscalation: one pupil's ladders, due actions, near misses and bands, explained",
       "",
       {kSchool, {"pupil", "ID", "(required)"}, kAsOf, kMinPosition},
       PupilEscalation},
      {"due-actions",
       group,
       "ListDueActions: the worklist, highest priority first (every page unless --page-size "
       "or --page-token)",
       "",
       {kSchool,
        kAsOf,
        {"kind", "KIND",
         "only this action: letter, meeting, home-visit, call, referral, "
         "penalty-notice-consideration, la-return, resolve-n-code, cme-checks, review, "
         "register-not-taken, positive-letter"},
        {"ladder", "ID", "only this ladder's steps"},
        {"stage", "STEP", "only pupils at this step of --ladder (none: not started)"},
        {"filter", "ATTRIBUTE=VALUE", "cohort filter, e.g. child-protection-plan=true", true},
        {"page-size", "N", "one page of N, 1..1000"},
        {"page-token", "TOKEN", "the next page, from a previous answer (same filters)"},
        kMinPosition},
       DueActions},
  };
}

}  // namespace attendance::ledgerctl

// --- ListEscalations, ListFirstResponse, SimulatePolicy (esc-a, issue 7) ---

namespace attendance::ledgerctl {
namespace {

int ListEscalations(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::ListEscalationsRequest request;
  request.set_school_id(args.Required("school"));
  request.set_as_of(args.Get("as-of"));
  request.set_ladder_id(args.Get("ladder"));
  request.set_stage(args.Get("stage"));
  for (const std::string& filter : args.All("filter")) {
    const size_t eq = filter.find('=');
    if (eq == std::string::npos) args.Fail("--filter: \"" + filter + "\" is not ATTRIBUTE=VALUE");
    v1::CohortFilter* f = request.add_cohort();
    f->set_attribute(static_cast<v1::CohortAttribute>(
        ParseEnumFlag(args, "filter", filter.substr(0, eq), v1::CohortAttribute_descriptor())));
    f->set_value(filter.substr(eq + 1));
  }
  request.set_page_size(static_cast<std::uint32_t>(args.Int("page-size", 0, 0, 1000)));
  request.set_page_token(args.Get("page-token"));
  request.set_min_position(MinPosition(args));
  auto stub = NewStub<v1::Escalation>(invocation);
  grpc::ClientContext context;
  invocation.connection.Prepare(context);
  v1::ListEscalationsResponse response;
  const grpc::Status status = stub->ListEscalations(&context, request, &response);
  if (!status.ok()) return ReportRpcError(status, "ListEscalations", invocation.err);
  if (invocation.json) {
    PrintJson(response, invocation.out);
    return kExitOk;
  }
  std::ostream& out = invocation.out;
  out << response.total() << " rows, policy version " << response.policy_version() << "\n";
  Table counts({"ladder", "stage", "pupils"});
  for (const v1::StageCount& c : response.counts()) {
    counts.Add(
        {c.ladder_id(), c.stage().empty() ? "(not started)" : c.stage(), absl::StrCat(c.pupils())});
  }
  counts.Print(out);
  out << "\n";
  Table rows({"pupil", "ladder", "stage", "since", "monitoring to", "due next", "basis"});
  for (const v1::PupilStage& p : response.pupils()) {
    rows.Add({p.pupil_id(), p.ladder_id(), p.stage().empty() ? "(not started)" : p.stage(),
              p.since(),
              p.monitoring_ends_on().empty()
                  ? ""
                  : absl::StrCat(p.monitoring_ends_on(), p.monitoring_running() ? " running" : ""),
              absl::StrJoin(p.due_steps(), ", "), p.basis_changed() ? "changed" : ""});
  }
  rows.Print(out);
  if (!response.next_page_token().empty()) {
    out << "more: --page-token " << response.next_page_token() << "\n";
  }
  return kExitOk;
}

int FirstResponse(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::ListFirstResponseRequest request;
  request.set_school_id(args.Required("school"));
  request.set_as_of(args.Get("as-of"));
  request.set_as_of_time(args.Get("at"));
  request.set_page_size(static_cast<std::uint32_t>(args.Int("page-size", 0, 0, 1000)));
  request.set_page_token(args.Get("page-token"));
  request.set_min_position(MinPosition(args));
  auto stub = NewStub<v1::Escalation>(invocation);
  grpc::ClientContext context;
  invocation.connection.Prepare(context);
  v1::ListFirstResponseResponse response;
  const grpc::Status status = stub->ListFirstResponse(&context, request, &response);
  if (!status.ok()) return ReportRpcError(status, "ListFirstResponse", invocation.err);
  if (invocation.json) {
    PrintJson(response, invocation.out);
    return kExitOk;
  }
  std::ostream& out = invocation.out;
  out << response.total() << " pupils to contact, policy version " << response.policy_version()
      << (response.register_open() ? " (the morning register is still open: not final)" : "")
      << "\n";
  Table table({"pupil", "code", "action", "by", "vulnerable", "day", "why"});
  for (const v1::FirstResponseEntry& e : response.entries()) {
    table.Add({e.pupil_id(), e.code().empty() ? "(none)" : e.code(), ActionText(e.action()),
               e.contact_by(), absl::StrJoin(e.cohorts(), ", "), absl::StrCat(e.day_of_absence()),
               e.sentence()});
  }
  table.Print(out);
  if (!response.next_page_token().empty()) {
    out << "more: --page-token " << response.next_page_token() << "\n";
  }
  return kExitOk;
}

std::string TallyText(const google::protobuf::RepeatedPtrField<v1::RuleTally>& tallies,
                      const std::string& ladder, const std::string& rule) {
  for (const v1::RuleTally& t : tallies) {
    if (t.ladder_id() == ladder && t.rule_id() == rule) {
      return ladder.empty() ? absl::StrCat(t.due())
                            : absl::StrCat(t.due(), " (", t.pupils_at_stage(), " at stage)");
    }
  }
  return "-";
}

int Simulate(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::SimulatePolicyRequest request;
  request.set_school_id(args.Required("school"));
  ReadMessageFile(args.Required("file"), *request.mutable_policy());
  request.set_from(args.Get("from"));
  request.set_to(args.Get("to"));
  request.set_min_position(MinPosition(args));
  auto stub = NewStub<v1::Escalation>(invocation);
  grpc::ClientContext context;
  invocation.connection.Prepare(context);
  v1::SimulatePolicyResponse response;
  const grpc::Status status = stub->SimulatePolicy(&context, request, &response);
  if (!status.ok()) return ReportRpcError(status, "SimulatePolicy", invocation.err);
  if (invocation.json) {
    PrintJson(response, invocation.out);
    return kExitOk;
  }
  std::ostream& out = invocation.out;
  out << "policy " << response.policy_id() << " version " << response.policy_version()
      << " beside the school's " << response.baseline_policy_version() << ", " << response.pupils()
      << " pupils\n";
  Table table({"half-term", "ladder", "rule", "simulated", "school's policy", "recorded"});
  for (const v1::HalfTermSimulation& h : response.half_terms()) {
    std::vector<std::pair<std::string, std::string>> rules;
    for (const auto* list : {&h.simulated(), &h.baseline(), &h.actual()}) {
      for (const v1::RuleTally& t : *list) {
        const std::pair<std::string, std::string> key{t.ladder_id(), t.rule_id()};
        if (std::find(rules.begin(), rules.end(), key) == rules.end()) rules.push_back(key);
      }
    }
    for (const auto& [ladder, rule] : rules) {
      table.Add({absl::StrCat(h.academic_year(), " ", h.half_term()), ladder, rule,
                 TallyText(h.simulated(), ladder, rule), TallyText(h.baseline(), ladder, rule),
                 TallyText(h.actual(), ladder, rule)});
    }
  }
  table.Print(out);
  out << "method: " << response.method() << "\n";
  return kExitOk;
}

}  // namespace

std::vector<Command> EscalationReportCommands() {
  const std::string group = "attendance.v1.Escalation (and Ledger.SetEscalationPolicy)";
  return {
      {"escalations",
       group,
       "ListEscalations: pupils by ladder and stage, with the count at each stage",
       "",
       {kSchool,
        kAsOf,
        {"ladder", "ID", "only this ladder"},
        {"stage", "STEP", "only pupils at this step (none: not started)"},
        {"filter", "ATTRIBUTE=VALUE", "cohort filter, e.g. year-group=3, looked-after=true", true},
        {"page-size", "N", "1..1000 (default 100)"},
        {"page-token", "TOKEN", "the next page, from a previous answer (same filters)"},
        kMinPosition},
       ListEscalations},
      {"first-response",
       group,
       "ListFirstResponse: pupils with no reason for absence by the close of the morning "
       "register, to contact, vulnerable first",
       "",
       {kSchool,
        kAsOf,
        {"at", "HH:MM", "the time of day (default: now for today, end of day otherwise)"},
        {"page-size", "N", "1..1000 (default 100)"},
        {"page-token", "TOKEN", "the next page, from a previous answer"},
        kMinPosition},
       FirstResponse},
      {"simulate-policy",
       group,
       "SimulatePolicy: the school's history under another policy, per half-term, beside its "
       "own and what was recorded",
       "",
       {kSchool,
        {"file", "FILE",
         "the attendance.v1.EscalationPolicy to try, text format or JSON (required)"},
        {"from", "YYYY-MM-DD", "first day (default: the start of the academic year of --to)"},
        {"to", "YYYY-MM-DD", "last day (default: today)"},
        kMinPosition},
       Simulate},
  };
}

}  // namespace attendance::ledgerctl
