#pragma once

#include <atomic>
#include <memory>

#include <grpcpp/grpcpp.h>

#include "attendance/v1/feeds_service.grpc.pb.h"
#include "ledger/clock.h"
#include "ledger/ledger.h"
#include "services/authenticator.h"
#include "services/limits.h"

namespace attendance::services {

class FeedHub;

// attendance.v1.Feeds: SubscribeEvents and SubscribeProjectionChanges on
// gRPC's callback API. Every subscriber is served by one hub (a watcher of
// the log's commits and two reader threads, feed_hub.h), so an open feed
// costs no thread; each reads the log from disk one chunk at a time, so a
// slow one costs one chunk and never holds up writers or other
// subscribers. Limits come from the server's ServerLimits (max_feeds,
// max_feed_lag_events). Thread-safe; the ledger must outlive the service,
// and the service the server.
// SubscribeEvents is a raw method on the server (its messages are written
// as bytes, the events as stored: encoded_events_response.h); clients use
// the typed stub as for any method.
class FeedsServiceImpl final
    : public v1::Feeds::WithRawCallbackMethod_SubscribeEvents<
          v1::Feeds::WithCallbackMethod_SubscribeProjectionChanges<v1::Feeds::Service>>,
      public LimitedService {
 public:
  // `clock`: when the school day turns (time-driven projection changes);
  // the ledger's own clock in ledgerd and in tests.
  explicit FeedsServiceImpl(const ledger::Ledger& ledger,
                            std::shared_ptr<const Authenticator> auth = Authenticator::LocalAdmin(),
                            ledger::Clock clock = {});
  ~FeedsServiceImpl() override;

  void SetCallLimiter(CallLimiter* limiter) override { limiter_.store(limiter); }

  // `request`: a SubscribeEventsRequest.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* SubscribeEvents(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) override;
  grpc::ServerWriteReactor<v1::SubscribeProjectionChangesResponse>* SubscribeProjectionChanges(
      grpc::CallbackServerContext* context,
      const v1::SubscribeProjectionChangesRequest* request) override;

  // Feeds open now (one ended but still flushing to its client counts).
  std::size_t open_feeds() const;
  // Feeds ended with RESOURCE_EXHAUSTED for lagging past
  // --max-feed-lag-events, since the start.
  std::uint64_t feeds_ended_for_lag() const;

  static constexpr int kMaxPupilIds = 1'000;
  static constexpr int kMaxEventTypes = v1::EventType_MAX;
  static constexpr int kMaxSchools = 16;
  static constexpr int kMaxWindows = 10;

 private:
  ServerLimits limits() const;

  const ledger::Ledger& ledger_;
  std::shared_ptr<const Authenticator> auth_;
  std::atomic<CallLimiter*> limiter_{nullptr};
  std::unique_ptr<FeedHub> hub_;
};

}  // namespace attendance::services
