#include "services/grpc_status.h"

#include <string>

#include "ledger/types.h"
#include "logger.h"

namespace attendance::services {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  if (code == grpc::StatusCode::INTERNAL || code == grpc::StatusCode::DATA_LOSS) {
    SPDLOG_LOGGER_ERROR(&Log(), "request failed: {}", status.ToString());
    return {code, code == grpc::StatusCode::DATA_LOSS
                      ? "stored data failed verification; see the server log"
                      : "internal error; see the server log"};
  }
  // Clients in other languages drop a reply whose message is not UTF-8
  // (and StreamMarks carries it in a proto3 string): the ledger's messages
  // already are, this keeps it so whatever produced the status.
  const std::string_view message(status.message().data(), status.message().size());
  if (!ledger::IsValidUtf8(message)) return {code, ledger::Printable(message)};
  return {code, std::string(message)};
}

}  // namespace attendance::services
