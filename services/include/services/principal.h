#pragma once

#include <grpcpp/server_context.h>

#include "ledger/types.h"

namespace attendance::services {

// The caller as the transport identified it. Until token authentication
// lands (roadmap: security), this is the `x-actor-name` / `x-actor-role`
// call metadata; an empty name or role means unauthenticated.
ledger::Principal PrincipalOf(const grpc::ServerContextBase& context);

}  // namespace attendance::services
