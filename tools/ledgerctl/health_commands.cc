// health: the standard grpc.health.v1.Health check, for scripts that wait
// for ledgerd (exit 0 when SERVING; 6 when unreachable or not serving).
#include <grpcpp/client_context.h>

#include "command_table.h"
#include "common.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace attendance::ledgerctl {
namespace {

int Check(Invocation& invocation) {
  auto stub = NewStub<grpc::health::v1::Health>(invocation);
  grpc::ClientContext context;
  invocation.connection.Prepare(context);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(invocation.args.Get("service"));
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) return ReportRpcError(status, "Check", invocation.err);
  if (invocation.json) {
    PrintJson(response, invocation.out);
  } else {
    invocation.out << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status())
                   << "\n";
  }
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING ? kExitOk
                                                                             : kExitUnavailable;
}

}  // namespace

std::vector<Command> HealthCommands() {
  return {
      {"health",
       "grpc.health.v1.Health",
       "Check: SERVING (exit 0) or not (exit 6)",
       "",
       {{"service", "NAME",
         "a service's full name, e.g. attendance.v1.Ledger (default: the server)"}},
       Check},
  };
}

}  // namespace attendance::ledgerctl
