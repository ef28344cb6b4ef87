#pragma once

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "services/limits.h"

namespace attendance::services {

// A running gRPC server with the given services, plus grpc.health.v1.Health
// and server reflection. `listen` is "HOST:PORT"; port 0 picks a free port.
// `limits` bounds streams per connection, calls, StreamMarks streams and
// threads (services/limits.h); every call is counted, and services that
// implement LimitedService get the server's CallLimiter.
class Server {
 public:
  // INVALID_ARGUMENT: a limit that is not positive. UNAVAILABLE: cannot listen.
  // `credentials`: TLS (services/tls.h); null = plaintext.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const std::string& listen, const std::vector<grpc::Service*>& services,
      const ServerLimits& limits = {},
      std::shared_ptr<grpc::ServerCredentials> credentials = nullptr);
  ~Server();

  // The port actually bound.
  int port() const { return port_; }
  // Calls and StreamMarks streams in flight, against the limits.
  const CallLimiter& calls() const { return *limiter_; }
  // Stops accepting calls and cancels streams still open.
  void Shutdown();
  void Wait();

 private:
  Server() = default;

  // Declared first so it outlives server_, whose calls hold its tickets.
  std::unique_ptr<CallLimiter> limiter_;
  std::vector<LimitedService*> limited_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace attendance::services
