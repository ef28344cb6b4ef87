#pragma once

#include <grpcpp/support/status.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace attendance::services {

// The only translation from absl::Status to grpc::Status. The codes share
// google.rpc.Code numbers; INTERNAL and DATA_LOSS details go to the log, not
// to the client. The message is always valid UTF-8 (bad bytes as \xNN).
grpc::Status ToGrpcStatus(const absl::Status& status);

// A query handler's answer: `result` moved into `response` when OK, and its
// status translated by ToGrpcStatus.
template <typename Response>
grpc::Status FinishQuery(absl::StatusOr<Response> result, Response* response) {
  if (result.ok()) *response = std::move(*result);
  return ToGrpcStatus(result.status());
}

}  // namespace attendance::services
