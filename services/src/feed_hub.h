#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "ledger/clock.h"
#include "ledger/ledger.h"

namespace attendance::services {

// One subscriber of a feed, as the hub sees it. Owned by shared_ptr: the
// hub's registry and work queue hold it while it is in them, so a stream
// that gRPC has finished with stays valid until they let it go.
class FeedSubscription {
 public:
  virtual ~FeedSubscription() = default;
  // On a hub worker: read the next chunk from disk and queue its messages.
  // Never called for one subscription on two threads at once.
  virtual void Fill() = 0;
  // On the hub's watcher thread, after a commit or every poll interval:
  // wake a parked subscriber (also when the school clock, FeedHub::Now, has
  // reached its next turn), send a due checkpoint, end one that lags too
  // far. Must be quick and must not block.
  virtual void Poke(ledger::Position head, std::chrono::steady_clock::time_point now,
                    ledger::LocalTime school_now) = 0;
};

// Serves every feed subscriber of one server with a fixed number of
// threads, however many subscribers there are: one watcher waits for
// commits (Ledger::WaitForCommit, which never holds up the commit path) and
// pokes the subscribers; `workers` threads read chunks from disk for the
// subscribers that have room for more. A subscriber never blocks another:
// gRPC writes are asynchronous, and one whose client does not read simply
// stops being given work. The watcher is also the feeds' one clock: each
// poll it reads `clock` and tells the subscribers the school day, so a
// feed whose changes depend on the date turns its day with no new event.
// Thread-safe.
class FeedHub {
 public:
  FeedHub(const ledger::Ledger& ledger, int workers, ledger::Clock clock = {});
  ~FeedHub();
  FeedHub(const FeedHub&) = delete;
  FeedHub& operator=(const FeedHub&) = delete;

  void Add(std::shared_ptr<FeedSubscription> subscription);
  void Remove(const FeedSubscription* subscription);
  // Queues one Fill on a worker (the caller makes sure it is not queued
  // twice).
  void Schedule(std::shared_ptr<FeedSubscription> subscription);
  std::size_t size() const;
  // Subscribers ended with RESOURCE_EXHAUSTED for lagging too far.
  void CountEndedForLag() { ended_for_lag_.fetch_add(1); }
  std::uint64_t ended_for_lag() const { return ended_for_lag_.load(); }

  // Events from `from` on: a run of the log read once for every subscriber
  // near the head (the hub keeps the most recent runs, up to kCachedEvents
  // events), or read from disk for this subscriber alone when `from` is
  // older than those. Empty when `from` is past the head.
  struct Slice {
    std::shared_ptr<const ledger::EventChunk> chunk;
    int begin = 0;  // the first event of `chunk` at or after `from`
  };
  absl::StatusOr<Slice> Read(ledger::Position from, ledger::ChunkLimits limits);

  // The school-local time the feeds may turn to (a day's start, a
  // register's close): the clock's, kDayTurnGrace ago. A commit is durable
  // well within that of the time it was stamped with (recorded_at), so once
  // the hub says time T has come no event recorded before T is still to
  // appear: a turn at the head lands where a replay of the log puts it
  // (before the first event recorded at or after T).
  ledger::LocalTime Now() const;
  static constexpr std::chrono::seconds kDayTurnGrace{2};

  static constexpr std::size_t kCachedEvents = 32'768;
  // How often the watcher pokes subscribers when nothing is committed.
  static constexpr auto kPollInterval = std::chrono::milliseconds(200);

 private:
  void Watch();
  void Work();

  const ledger::Ledger& ledger_;
  const ledger::Clock clock_;
  std::atomic<std::uint64_t> ended_for_lag_{0};
  mutable std::mutex mu_;
  std::condition_variable work_ready_;
  bool stop_ = false;
  absl::flat_hash_map<const FeedSubscription*, std::shared_ptr<FeedSubscription>> subscriptions_;
  std::deque<std::shared_ptr<FeedSubscription>> work_;
  // The recent runs, consecutive and ascending; extended by one reader at
  // a time (extend_mu_), looked up under cache_mu_.
  std::mutex extend_mu_;
  std::mutex cache_mu_;
  std::deque<std::shared_ptr<const ledger::EventChunk>> cache_;
  std::size_t cached_events_ = 0;
  std::thread watcher_;
  std::vector<std::thread> workers_;
};

}  // namespace attendance::services
