#pragma once

#include <atomic>
#include <cstdint>

#include "absl/status/status.h"

namespace attendance::services {

// The server's fairness limits, one place for all of them (ledgerd sets
// each from a flag of the same name; README "Server limits").
struct ServerLimits {
  // HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: calls open at once on one
  // connection. A client's further calls wait in its own queue.
  int max_streams_per_connection = 100;
  // Calls in flight over all connections and methods (--max-calls).
  // Handlers that take part answer RESOURCE_EXHAUSTED above it.
  int max_calls = 256;
  // StreamMarks streams open over all connections (--max-mark-streams).
  int max_mark_streams = 64;
  // Threads of the synchronous server (grpc::ResourceQuota::SetMaxThreads,
  // --max-threads). Calls that find none free get gRPC's own
  // RESOURCE_EXHAUSTED "Server Threadpool Exhausted".
  int max_threads = 128;
  // Ping an idle client after this long, drop it if no answer within the
  // timeout: dead peers stop holding streams.
  int keepalive_time_ms = 60'000;
  int keepalive_timeout_ms = 20'000;
  // Close (GOAWAY) a connection with no calls for this long (--max-idle-ms).
  int max_connection_idle_ms = 300'000;
  // Feeds (attendance.v1.Feeds) open at once (--max-feeds); a new one over
  // it is refused with RESOURCE_EXHAUSTED.
  int max_feeds = 1'000;
  // Events a feed subscriber that has caught up may fall behind the head
  // before it is ended with RESOURCE_EXHAUSTED naming the position to resume
  // from (--max-feed-lag-events). It costs the server one chunk, not the lag.
  int max_feed_lag_events = 1'000'000;
};

// Counts calls in flight against ServerLimits. Thread-safe. Every call is
// counted by the server (an interceptor holds a CallTicket for the call's
// life); handlers ask CheckCalls() before doing work, and StreamMarks takes a
// second ticket from EnterMarkStream().
class CallLimiter {
 public:
  // Releases its count when destroyed (or on Release()). Move-only.
  class Ticket {
   public:
    Ticket() = default;
    explicit Ticket(std::atomic<int>* counter) : counter_(counter) {}
    Ticket(Ticket&& other) noexcept : counter_(other.counter_) { other.counter_ = nullptr; }
    Ticket& operator=(Ticket&& other) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket() { Release(); }
    void Release();

   private:
    std::atomic<int>* counter_ = nullptr;
  };

  explicit CallLimiter(const ServerLimits& limits) : limits_(limits) {}

  const ServerLimits& limits() const { return limits_; }

  // Counts one more call in flight, never refused (the interceptor's).
  Ticket CountCall();
  // RESOURCE_EXHAUSTED naming --max-calls when more calls than the limit are
  // in flight, the caller's own included.
  absl::Status CheckCalls() const;
  // One more StreamMarks stream, or RESOURCE_EXHAUSTED naming
  // --max-mark-streams (nothing counted then).
  absl::Status EnterMarkStream(Ticket& ticket);

  int calls_in_flight() const { return calls_.load(); }
  int mark_streams() const { return mark_streams_.load(); }

 private:
  const ServerLimits limits_;
  std::atomic<int> calls_{0};
  std::atomic<int> mark_streams_{0};
};

// A service whose handlers check a CallLimiter. Server::Start gives it the
// server's limiter before serving and takes it back (nullptr) when the
// server is destroyed; without one, nothing is limited.
class LimitedService {
 public:
  virtual ~LimitedService() = default;
  virtual void SetCallLimiter(CallLimiter* limiter) = 0;
};

}  // namespace attendance::services
