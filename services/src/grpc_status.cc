#include "services/grpc_status.h"

#include <string>

#include "logger.h"

namespace attendance::services {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  if (code == grpc::StatusCode::INTERNAL || code == grpc::StatusCode::DATA_LOSS) {
    SPDLOG_LOGGER_ERROR(&Log(), "request failed: {}", status.ToString());
    return {code, code == grpc::StatusCode::DATA_LOSS ? "stored data failed verification; see the server log"
                                                      : "internal error; see the server log"};
  }
  return {code, std::string(status.message())};
}

}  // namespace attendance::services
