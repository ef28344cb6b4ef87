#pragma once

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"

namespace attendance::services {

// A running gRPC server with the given services, plus grpc.health.v1.Health
// and server reflection. `listen` is "HOST:PORT"; port 0 picks a free port.
class Server {
 public:
  // `credentials`: TLS (services/tls.h); null = plaintext.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const std::string& listen, const std::vector<grpc::Service*>& services,
      std::shared_ptr<grpc::ServerCredentials> credentials = nullptr);
  ~Server();

  // The port actually bound.
  int port() const { return port_; }
  // Stops accepting calls and cancels streams still open.
  void Shutdown();
  void Wait();

 private:
  Server(std::unique_ptr<grpc::Server> server, int port) : server_(std::move(server)), port_(port) {}
  std::unique_ptr<grpc::Server> server_;
  int port_;
};

}  // namespace attendance::services
