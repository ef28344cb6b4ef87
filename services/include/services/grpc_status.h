#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace attendance::services {

// The only translation from absl::Status to grpc::Status. The codes share
// google.rpc.Code numbers; INTERNAL and DATA_LOSS details go to the log, not
// to the client. The message is always valid UTF-8 (bad bytes as \xNN).
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace attendance::services
