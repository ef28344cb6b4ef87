// Leave of absence in term time: evaluate-leave (Escalation.EvaluateLeaveRequest,
// writes nothing), request-leave (Ledger.RequestLeave) and decide-leave
// (Ledger.DecideLeave, which pre-records approved leave as C marks).
#include <grpcpp/client_context.h>

#include "absl/strings/str_cat.h"
#include "attendance/v1/escalation_service.grpc.pb.h"
#include "attendance/v1/ledger_service.grpc.pb.h"
#include "command_table.h"
#include "common.h"

namespace attendance::ledgerctl {
namespace {

namespace v1 = ::attendance::v1;

const Option kSchool{"school", "ID", "school id (required)"};
const Option kPupil{"pupil", "ID", "(required)"};
const Option kLeave{"leave", "ID", "the leave request's id, unique per pupil (required)"};
const Option kRequestId{"request-id", "ID",
                        "idempotency key (default: derived from the request, so a rerun of the "
                        "same command writes nothing)"};
const std::vector<Option> kRange = {
    {"from", "YYYY-MM-DD", "first day of the leave (required)"},
    {"from-session", "AM|PM", "first session (default AM)"},
    {"to", "YYYY-MM-DD", "last day of the leave (required)"},
    {"to-session", "AM|PM", "last session (default PM)"},
};

v1::Session SessionFlag(const Args& args, const char* flag, const char* fallback) {
  return static_cast<v1::Session>(
      ParseEnumFlag(args, flag, args.Get(flag, fallback), v1::Session_descriptor()));
}

std::vector<Option> With(std::vector<Option> a, const std::vector<Option>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

int EvaluateLeave(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::EvaluateLeaveRequestRequest request;
  request.set_school_id(args.Required("school"));
  request.set_pupil_id(args.Required("pupil"));
  request.set_first_date(args.Required("from"));
  request.set_first_session(SessionFlag(args, "from-session", "AM"));
  request.set_last_date(args.Required("to"));
  request.set_last_session(SessionFlag(args, "to-session", "PM"));
  request.set_as_of(args.Get("as-of"));
  request.set_min_position(static_cast<std::uint64_t>(args.Int("min-position", 0, 0, INT64_MAX)));
  auto stub = NewStub<v1::Escalation>(invocation);
  grpc::ClientContext context;
  invocation.connection.Prepare(context);
  v1::LeaveEvaluation response;
  const grpc::Status status = stub->EvaluateLeaveRequest(&context, request, &response);
  if (!status.ok()) return ReportRpcError(status, "EvaluateLeaveRequest", invocation.err);
  if (invocation.json) {
    PrintJson(response, invocation.out);
    return kExitOk;
  }
  invocation.out << EnumName(v1::LeaveRecommendation_descriptor(), response.recommendation())
                 << ": " << response.sentence() << "\n";
  Table checks({"rule", "id", "result", "why"});
  for (const v1::LeaveRuleCheck& check : response.checks()) {
    checks.Add({check.rule(), check.explanation().rule_id(), check.passed() ? "pass" : "refuse",
                check.explanation().sentence()});
  }
  if (!checks.empty()) checks.Print(invocation.out);
  return kExitOk;
}

template <typename Request, typename Response, typename Call>
int RunLeaveWrite(Invocation& invocation, absl::string_view method, Request& request, Call call) {
  if (request.request_id().empty()) {
    request.set_request_id(
        RequestIdFlag(invocation.args, DerivedRequestId(method, invocation, request)));
  }
  auto stub = NewStub<v1::Ledger>(invocation);
  grpc::ClientContext context;
  invocation.connection.Prepare(context);
  Response response;
  const grpc::Status status = call(*stub, &context, request, &response);
  if (!status.ok()) return ReportRpcError(status, method, invocation.err);
  return PrintWriteResponse(invocation, response, response.position(), response.stream_version(),
                            response.replayed(), request.request_id());
}

int RequestLeave(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::RequestLeaveRequest request;
  request.set_school_id(args.Required("school"));
  request.set_pupil_id(args.Required("pupil"));
  request.set_leave_id(args.Required("leave"));
  request.set_first_date(args.Required("from"));
  request.set_first_session(SessionFlag(args, "from-session", "AM"));
  request.set_last_date(args.Required("to"));
  request.set_last_session(SessionFlag(args, "to-session", "PM"));
  request.set_reason(args.Required("reason"));
  request.set_requested_by(args.Required("requested-by"));
  return RunLeaveWrite<v1::RequestLeaveRequest, v1::WriteResponse>(
      invocation, "RequestLeave", request,
      [](auto& stub, auto* context, const auto& r, auto* response) {
        return stub.RequestLeave(context, r, response);
      });
}

int DecideLeave(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::DecideLeaveRequest request;
  request.set_school_id(args.Required("school"));
  request.set_pupil_id(args.Required("pupil"));
  request.set_leave_id(args.Required("leave"));
  const bool approve = args.Switch("approve");
  if (approve == args.Switch("refuse")) args.Fail("give one of --approve and --refuse");
  request.set_approved(approve);
  request.set_reason(args.Required("reason"));
  return RunLeaveWrite<v1::DecideLeaveRequest, v1::DecideLeaveResponse>(
      invocation, "DecideLeave", request,
      [&invocation](auto& stub, auto* context, const auto& r, auto* response) {
        grpc::Status status = stub.DecideLeave(context, r, response);
        if (status.ok() && !invocation.json && r.approved()) {
          invocation.out << response->sessions_recorded() << " sessions marked C (positions "
                         << response->position() + 1 << ".." << response->last_position() << "); ";
        }
        return status;
      });
}

}  // namespace

std::vector<Command> LeaveCommands() {
  const std::string group = "leave of absence (attendance.v1.Escalation, attendance.v1.Ledger)";
  return {
      {"evaluate-leave", group,
       "EvaluateLeaveRequest: what the school's leave rules say of a request (writes nothing)", "",
       With(With({kSchool, kPupil}, kRange),
            {{"as-of", "YYYY-MM-DD", "the day the request is made (default: today)"},
             {"min-position", "N", "read your own writes"}}),
       EvaluateLeave},
      {"request-leave", group,
       "RequestLeave: records a parent's or carer's request for leave of absence", "",
       With(With({kSchool, kPupil, kLeave}, kRange),
            {{"reason", "TEXT", "the reason given (required)"},
             {"requested-by", "CARER-ID", "one of the pupil's carers (required)"},
             kRequestId}),
       RequestLeave},
      {"decide-leave",
       group,
       "DecideLeave: the headteacher's decision; approved leave is marked C for each session",
       "",
       {kSchool,
        kPupil,
        kLeave,
        {"approve", "", "approve the leave (pre-records its sessions as C)"},
        {"refuse", "", "refuse it"},
        {"reason", "TEXT", "(required)"},
        kRequestId},
       DecideLeave},
  };
}

}  // namespace attendance::ledgerctl
