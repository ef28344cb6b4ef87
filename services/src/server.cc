#include "services/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "logger.h"

namespace attendance::services {

// Large enough for a 10,000-mark batch with comments.
constexpr int kMaxMessageBytes = 16 << 20;

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const std::string& listen, const std::vector<grpc::Service*>& services,
    std::shared_ptr<grpc::ServerCredentials> credentials) {
  if (!credentials) credentials = grpc::InsecureServerCredentials();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, credentials, &port);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", listen));
  }
  SPDLOG_LOGGER_INFO(&Log(), "serving on port {} (asked for {})", port, listen);
  return std::unique_ptr<Server>(new Server(std::move(server), port));
}

Server::~Server() { Shutdown(); }

void Server::Shutdown() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
}

void Server::Wait() {
  if (server_) server_->Wait();
}

}  // namespace attendance::services
