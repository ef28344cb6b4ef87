#include "services/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/service_type.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/support/server_interceptor.h>

#include "absl/strings/str_cat.h"
#include "logger.h"

namespace attendance::services {
namespace {

// Large enough for a 10,000-mark batch with comments.
constexpr int kMaxMessageBytes = 16 << 20;
// Clients may ping this often without data before the server sends GOAWAY
// (gRPC's default is 5 minutes, which punishes ordinary client keepalives).
constexpr int kMinClientPingIntervalMs = 10'000;

// Holds one count in the limiter for as long as its call lives: gRPC
// creates it when a call arrives and destroys it with the call's context.
class CountingInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit CountingInterceptor(CallLimiter::Ticket ticket) : ticket_(std::move(ticket)) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    methods->Proceed();
  }

 private:
  CallLimiter::Ticket ticket_;
};

class CountingInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CountingInterceptorFactory(CallLimiter* limiter) : limiter_(limiter) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* /*info*/) override {
    return new CountingInterceptor(limiter_->CountCall());
  }

 private:
  CallLimiter* limiter_;
};

absl::Status CheckLimits(const ServerLimits& limits) {
  const std::pair<const char*, int> values[] = {
      {"max_streams_per_connection", limits.max_streams_per_connection},
      {"max_calls", limits.max_calls},
      {"max_mark_streams", limits.max_mark_streams},
      {"max_threads", limits.max_threads},
      {"keepalive_time_ms", limits.keepalive_time_ms},
      {"keepalive_timeout_ms", limits.keepalive_timeout_ms},
      {"max_connection_idle_ms", limits.max_connection_idle_ms},
      {"max_feeds", limits.max_feeds},
      {"max_feed_lag_events", limits.max_feed_lag_events},
  };
  for (const auto& [name, value] : values) {
    if (value <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("server limit ", name, ": ", value, " is not a positive number"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const std::string& listen, const std::vector<grpc::Service*>& services,
    const ServerLimits& limits, std::shared_ptr<grpc::ServerCredentials> credentials) {
  if (absl::Status s = CheckLimits(limits); !s.ok()) return s;
  if (!credentials) credentials = grpc::InsecureServerCredentials();
  std::unique_ptr<Server> result(new Server());
  result->limiter_ = std::make_unique<CallLimiter>(limits);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, credentials, &result->port_);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, limits.max_streams_per_connection);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, limits.keepalive_time_ms);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, limits.keepalive_timeout_ms);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, limits.max_connection_idle_ms);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             kMinClientPingIntervalMs);
  grpc::ResourceQuota quota("ledgerd");
  quota.SetMaxThreads(limits.max_threads);
  builder.SetResourceQuota(quota);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<CountingInterceptorFactory>(result->limiter_.get()));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  for (grpc::Service* service : services) {
    if (auto* limited = dynamic_cast<LimitedService*>(service)) {
      limited->SetCallLimiter(result->limiter_.get());
      result->limited_.push_back(limited);
    }
    builder.RegisterService(service);
  }
  result->server_ = builder.BuildAndStart();
  if (!result->server_ || result->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", listen));
  }
  SPDLOG_LOGGER_INFO(&Log(),
                     "serving on port {} (asked for {}); limits: {} streams per connection, {} "
                     "calls, {} StreamMarks streams, {} threads",
                     result->port_, listen, limits.max_streams_per_connection, limits.max_calls,
                     limits.max_mark_streams, limits.max_threads);
  return result;
}

Server::~Server() {
  Shutdown();
  server_.reset();
  for (LimitedService* service : limited_) service->SetCallLimiter(nullptr);
}

void Server::Shutdown() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
}

void Server::Wait() {
  if (server_) server_->Wait();
}

}  // namespace attendance::services
