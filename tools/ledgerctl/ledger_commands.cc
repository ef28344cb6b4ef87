// Subcommands of attendance.v1.Ledger's writes: one per RPC.
#include <grpcpp/client_context.h>

#include "absl/strings/str_cat.h"
#include "attendance/v1/ledger_service.grpc.pb.h"
#include "command_table.h"
#include "common.h"

namespace attendance::ledgerctl {
namespace {

namespace v1 = ::attendance::v1;

const Option kSchool{"school", "ID", "school id (required)"};
const Option kRequestId{"request-id", "ID",
                        "idempotency key: a retry with the same id writes nothing (default: a "
                        "new random id, printed)"};
const Option kDerivedRequestId{"request-id", "ID",
                               "idempotency key (default: derived from the marks)"};

v1::Session SessionFlag(const Args& args, absl::string_view flag = "session") {
  return static_cast<v1::Session>(
      ParseEnumFlag(args, flag, args.Required(flag), v1::Session_descriptor()));
}

// Calls a unary write and prints its WriteResponse.
template <typename Request, typename Call>
int RunWrite(Invocation& invocation, absl::string_view method, Request& request, Call call) {
  auto stub = NewStub<v1::Ledger>(invocation);
  grpc::ClientContext context;
  invocation.connection.Prepare(context);
  v1::WriteResponse response;
  const grpc::Status status = call(*stub, &context, request, &response);
  if (!status.ok()) return ReportRpcError(status, method, invocation.err);
  return PrintWriteResponse(invocation, response, response.position(), response.stream_version(),
                            response.replayed(), request.request_id());
}

int RecordMarks(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::RecordMarksRequest request;
  if (args.Has("file")) ReadMessageFile(args.Get("file"), request);
  if (args.Has("school") || request.school_id().empty())
    request.set_school_id(args.Required("school"));
  if (args.Has("pupil") || !args.Has("file")) {
    v1::Mark* mark = request.add_marks();
    mark->set_pupil_id(args.Required("pupil"));
    mark->set_date(args.Required("date"));
    mark->set_session(SessionFlag(args));
    mark->set_code(args.Required("code"));
    mark->set_minutes_late(static_cast<std::uint32_t>(args.Int("minutes-late", 0, 0, 1000000)));
    mark->set_comment(args.Get("comment"));
  }
  request.clear_request_id();
  request.set_request_id(RequestIdFlag(args, DerivedRequestId("RecordMarks", invocation, request)));
  auto stub = NewStub<v1::Ledger>(invocation);
  grpc::ClientContext context;
  invocation.connection.Prepare(context);
  v1::RecordMarksResponse response;
  const grpc::Status status = stub->RecordMarks(&context, request, &response);
  if (!status.ok()) return ReportRpcError(status, "RecordMarks", invocation.err);
  if (invocation.json) {
    PrintJson(response, invocation.out);
  } else {
    invocation.out << "recorded " << response.recorded() << " marks at positions "
                   << response.first_position() << "-" << response.last_position()
                   << (response.replayed() ? " (replayed: already applied, nothing written)" : "")
                   << ", request id " << request.request_id() << "\n";
  }
  return kExitOk;
}

int AmendMark(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::AmendMarkRequest request;
  request.set_school_id(args.Required("school"));
  request.set_pupil_id(args.Required("pupil"));
  request.set_date(args.Required("date"));
  request.set_session(SessionFlag(args));
  request.set_amended_code(args.Required("code"));
  request.set_reason(args.Required("reason"));
  request.set_minutes_late(static_cast<std::uint32_t>(args.Int("minutes-late", 0, 0, 1000000)));
  request.set_expected_code(args.Get("expected-code"));
  request.set_expected_stream_version(
      static_cast<std::uint64_t>(args.Int("expected-version", 0, 0, INT64_MAX)));
  request.set_request_id(RequestIdFlag(args, RandomRequestId()));
  auto stub = NewStub<v1::Ledger>(invocation);
  grpc::ClientContext context;
  invocation.connection.Prepare(context);
  v1::AmendMarkResponse response;
  const grpc::Status status = stub->AmendMark(&context, request, &response);
  if (!status.ok()) return ReportRpcError(status, "AmendMark", invocation.err);
  if (invocation.json) {
    PrintJson(response, invocation.out);
  } else {
    invocation.out << "amended " << request.pupil_id() << " " << request.date() << " "
                   << EnumName(v1::Session_descriptor(), request.session()) << " from \""
                   << response.original_code() << "\" to \"" << request.amended_code()
                   << "\" at position " << response.position() << ", stream version "
                   << response.stream_version()
                   << (response.replayed() ? " (replayed: already applied, nothing written)" : "")
                   << ", request id " << request.request_id() << "\n";
  }
  return kExitOk;
}

int RecordLetter(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::RecordLetterRequest request;
  request.set_school_id(args.Required("school"));
  request.set_pupil_id(args.Required("pupil"));
  request.set_letter_id(args.Required("letter"));
  request.set_channel(static_cast<v1::LetterChannel>(
      ParseEnumFlag(args, "channel", args.Get("channel", "POST"), v1::LetterChannel_descriptor())));
  request.set_sent_on(args.Required("sent-on"));
  request.set_note(args.Get("note"));
  request.set_request_id(RequestIdFlag(args, RandomRequestId()));
  return RunWrite(invocation, "RecordLetter", request,
                  [](auto& stub, auto* context, const auto& r, auto* response) {
                    return stub.RecordLetter(context, r, response);
                  });
}

const std::vector<Option>& PupilOptions() {
  static const std::vector<Option> options = {
      {"pupil", "ID", "pupil id (required, unless in --file)"},
      {"file", "FILE", "an attendance.v1.Pupil in JSON or protobuf text format; flags override it"},
      {"given-name", "NAME", ""},
      {"family-name", "NAME", ""},
      {"date-of-birth", "YYYY-MM-DD", ""},
      {"year-group", "N", "-1 nursery, 0 reception, 1..13"},
      {"class", "NAME", "class name"},
      {"sex", "FEMALE|MALE", ""},
      {"send", "SEND_NONE|SEN_SUPPORT|EHC_PLAN", ""},
      {"pupil-premium", "", "disadvantaged (pupil premium)"},
      {"fsm", "", "free school meals"},
      {"eal", "", "English as an additional language"},
      {"child-in-need", "", ""},
      {"child-protection-plan", "", ""},
      {"looked-after", "", ""},
  };
  return options;
}

v1::Pupil PupilFromFlags(const Args& args) {
  v1::Pupil pupil;
  if (args.Has("file")) ReadMessageFile(args.Get("file"), pupil);
  if (args.Has("pupil") || pupil.pupil_id().empty()) pupil.set_pupil_id(args.Required("pupil"));
  if (args.Has("given-name")) pupil.set_given_name(args.Get("given-name"));
  if (args.Has("family-name")) pupil.set_family_name(args.Get("family-name"));
  if (args.Has("date-of-birth")) pupil.set_date_of_birth(args.Get("date-of-birth"));
  if (args.Has("year-group")) {
    pupil.set_year_group(static_cast<std::int32_t>(args.Int("year-group", 0, -1, 14)));
  }
  if (args.Has("class")) pupil.set_class_name(args.Get("class"));
  if (args.Has("sex")) {
    pupil.set_sex(
        static_cast<v1::Sex>(ParseEnumFlag(args, "sex", args.Get("sex"), v1::Sex_descriptor())));
  }
  if (args.Has("send")) {
    pupil.set_send(static_cast<v1::SendStatus>(
        ParseEnumFlag(args, "send", args.Get("send"), v1::SendStatus_descriptor())));
  }
  if (args.Has("pupil-premium")) pupil.set_pupil_premium(true);
  if (args.Has("fsm")) pupil.set_free_school_meals(true);
  if (args.Has("eal")) pupil.set_eal(true);
  if (args.Has("child-in-need")) pupil.set_child_in_need(true);
  if (args.Has("child-protection-plan")) pupil.set_child_protection_plan(true);
  if (args.Has("looked-after")) pupil.set_looked_after(true);
  return pupil;
}

int EnrolPupil(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::EnrolPupilRequest request;
  request.set_school_id(args.Required("school"));
  *request.mutable_pupil() = PupilFromFlags(args);
  request.set_on_roll_from(args.Required("on-roll-from"));
  request.set_request_id(RequestIdFlag(args, RandomRequestId()));
  return RunWrite(invocation, "EnrolPupil", request,
                  [](auto& stub, auto* context, const auto& r, auto* response) {
                    return stub.EnrolPupil(context, r, response);
                  });
}

int UpdatePupil(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::UpdatePupilRequest request;
  request.set_school_id(args.Required("school"));
  *request.mutable_pupil() = PupilFromFlags(args);
  request.set_effective_from(args.Required("effective-from"));
  request.set_request_id(RequestIdFlag(args, RandomRequestId()));
  return RunWrite(invocation, "UpdatePupil", request,
                  [](auto& stub, auto* context, const auto& r, auto* response) {
                    return stub.UpdatePupil(context, r, response);
                  });
}

int RemoveFromRoll(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::RemoveFromRollRequest request;
  request.set_school_id(args.Required("school"));
  request.set_pupil_id(args.Required("pupil"));
  request.set_last_day_on_roll(args.Required("last-day"));
  request.set_reason(args.Get("reason"));
  request.set_request_id(RequestIdFlag(args, RandomRequestId()));
  return RunWrite(invocation, "RemoveFromRoll", request,
                  [](auto& stub, auto* context, const auto& r, auto* response) {
                    return stub.RemoveFromRoll(context, r, response);
                  });
}

int SetCalendar(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::SetSchoolCalendarRequest request;
  request.set_school_id(args.Required("school"));
  ReadMessageFile(args.Required("file"), *request.mutable_calendar());
  request.set_request_id(RequestIdFlag(args, RandomRequestId()));
  return RunWrite(invocation, "SetSchoolCalendar", request,
                  [](auto& stub, auto* context, const auto& r, auto* response) {
                    return stub.SetSchoolCalendar(context, r, response);
                  });
}

int SetSettings(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::SetSchoolSettingsRequest request;
  request.set_school_id(args.Required("school"));
  ReadMessageFile(args.Required("file"), *request.mutable_settings());
  request.set_request_id(RequestIdFlag(args, RandomRequestId()));
  return RunWrite(invocation, "SetSchoolSettings", request,
                  [](auto& stub, auto* context, const auto& r, auto* response) {
                    return stub.SetSchoolSettings(context, r, response);
                  });
}

int RecordAction(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::RecordActionRequest request;
  if (args.Has("file")) ReadMessageFile(args.Get("file"), request);
  if (args.Has("school") || request.school_id().empty())
    request.set_school_id(args.Required("school"));
  if (args.Has("pupil") || request.pupil_id().empty()) request.set_pupil_id(args.Required("pupil"));
  if (args.Has("action") || request.action_id().empty())
    request.set_action_id(args.Required("action"));
  if (args.Has("kind") || request.kind() == v1::RECORDED_ACTION_KIND_UNSPECIFIED) {
    request.set_kind(static_cast<v1::RecordedActionKind>(
        ParseEnumFlag(args, "kind", args.Required("kind"), v1::RecordedActionKind_descriptor())));
  }
  if (args.Has("happened-on") || request.happened_on().empty())
    request.set_happened_on(args.Required("happened-on"));
  if (args.Has("referred-to")) {
    request.set_referred_to(static_cast<v1::ReferralAgency>(ParseEnumFlag(
        args, "referred-to", args.Get("referred-to"), v1::ReferralAgency_descriptor())));
  }
  if (args.Has("step")) request.set_step_id(args.Get("step"));
  if (args.Has("trigger")) request.set_trigger_id(args.Get("trigger"));
  if (args.Has("outcome")) request.set_outcome(args.Get("outcome"));
  if (args.Has("target-percent")) {
    const double percent = args.Double("target-percent", 0);
    if (percent < 0 || percent > 100) args.Fail("--target-percent: not from 0 to 100");
    request.set_target_basis_points(static_cast<std::uint32_t>(percent * 100 + 0.5));
  }
  if (args.Has("review-on")) request.set_review_on(args.Get("review-on"));
  if (args.Has("reviews")) request.set_reviews_action_id(args.Get("reviews"));
  if (args.Has("parent")) request.set_parent_id(args.Get("parent"));
  if (args.Has("parent-name")) request.set_parent_name(args.Get("parent-name"));
  // Recording the same action again is refused (ALREADY_EXISTS on its
  // action id), so an id derived from the request makes a retry safe.
  request.clear_request_id();
  request.set_request_id(
      RequestIdFlag(args, DerivedRequestId("RecordAction", invocation, request)));
  return RunWrite(invocation, "RecordAction", request,
                  [](auto& stub, auto* context, const auto& r, auto* response) {
                    return stub.RecordAction(context, r, response);
                  });
}

std::vector<Option> With(std::vector<Option> options, const std::vector<Option>& more) {
  options.insert(options.end(), more.begin(), more.end());
  return options;
}

}  // namespace

std::vector<Command> LedgerCommands() {
  const std::string group = "attendance.v1.Ledger (writes)";
  return {
      {"record-marks",
       group,
       "RecordMarks: one mark from flags, or a batch from --file (again: writes nothing)",
       "",
       {kSchool,
        {"pupil", "ID", "the mark's pupil"},
        {"date", "YYYY-MM-DD", "the session's date"},
        {"session", "AM|PM", ""},
        {"code", "CODE", "attendance code, e.g. / \\ L N I M C1"},
        {"minutes-late", "N", "for L and U"},
        {"comment", "TEXT", ""},
        {"file", "FILE", "an attendance.v1.RecordMarksRequest in JSON or protobuf text format"},
        kDerivedRequestId},
       RecordMarks},
      {"amend-mark",
       group,
       "AmendMark: changes a recorded mark, with a reason",
       "",
       {kSchool,
        {"pupil", "ID", "(required)"},
        {"date", "YYYY-MM-DD", "(required)"},
        {"session", "AM|PM", "(required)"},
        {"code", "CODE", "the amended code (required)"},
        {"reason", "TEXT", "why (required)"},
        {"minutes-late", "N", "for an amended code of L or U"},
        {"expected-code", "CODE", "refuse (ABORTED, exit 7) unless the mark still has this code"},
        {"expected-version", "N", "refuse unless the pupil's stream is at this version"},
        kRequestId},
       AmendMark},
      {"record-letter",
       group,
       "RecordLetter: a letter the attendance team sent",
       "",
       {kSchool,
        {"pupil", "ID", "(required)"},
        {"letter", "ID", "letter id from the school's policy, e.g. letter_1 (required)"},
        {"channel", "POST|EMAIL|APP|HAND", "(default POST)"},
        {"sent-on", "YYYY-MM-DD", "(required)"},
        {"note", "TEXT", ""},
        kRequestId},
       RecordLetter},
      {"enrol-pupil", group, "EnrolPupil: puts a pupil on the school's roll", "",
       With(With({kSchool}, PupilOptions()),
            {{"on-roll-from", "YYYY-MM-DD", "first day on roll (required)"}, kRequestId}),
       EnrolPupil},
      {"update-pupil", group,
       "UpdatePupil: replaces a pupil's details from a date (give every detail)", "",
       With(With({kSchool}, PupilOptions()),
            {{"effective-from", "YYYY-MM-DD", "(required)"}, kRequestId}),
       UpdatePupil},
      {"remove-from-roll",
       group,
       "RemoveFromRoll: the pupil leaves after a day",
       "",
       {kSchool,
        {"pupil", "ID", "(required)"},
        {"last-day", "YYYY-MM-DD", "last day on roll (required)"},
        {"reason", "TEXT", ""},
        kRequestId},
       RemoveFromRoll},
      {"set-calendar",
       group,
       "SetSchoolCalendar: one academic year's terms and closures",
       "",
       {kSchool,
        {"file", "FILE",
         "an attendance.v1.SchoolCalendarSet in JSON or protobuf text format (required)"},
        kRequestId},
       SetCalendar},
      {"set-settings",
       group,
       "SetSchoolSettings: replaces the school's settings (the first call creates the school)",
       "",
       {kSchool,
        {"file", "FILE",
         "an attendance.v1.SchoolSettings in JSON or protobuf text format (required)"},
        kRequestId},
       SetSettings},
      {"record-action",
       group,
       "RecordAction: a meeting, home visit, call, referral or penalty notice the ladder waits on",
       "",
       {kSchool,
        {"pupil", "ID", "(required)"},
        {"action", "ID", "action id, unique per pupil (required)"},
        {"kind", "KIND",
         "meeting-held, home-visit-made, call-made, referral-made, penalty-notice-requested, "
         "penalty-notice-issued, panel-held, parenting-contract, education-supervision-order "
         "(required)"},
        {"happened-on", "YYYY-MM-DD", "not in the future (required)"},
        {"referred-to", "AGENCY",
         "referral-made: education-welfare-officer, early-help or local-authority"},
        {"step", "ID", "the policy step it answers"},
        {"trigger", "ID", "the policy trigger it answers"},
        {"outcome", "TEXT", ""},
        {"target-percent", "P", "meeting-held: the attendance target set, e.g. 95"},
        {"review-on", "YYYY-MM-DD", "meeting-held: when the target is reviewed"},
        {"reviews", "ID", "the action id of the earlier meeting this reviews"},
        {"parent", "ID", "penalty notices: the parent or carer's id"},
        {"parent-name", "NAME", "penalty notices: their name"},
        {"file", "FILE", "an attendance.v1.RecordActionRequest in JSON or text format; flags win"},
        {"request-id", "ID", "idempotency key (default: derived from the action)"}},
       RecordAction},
  };
}

}  // namespace attendance::ledgerctl
