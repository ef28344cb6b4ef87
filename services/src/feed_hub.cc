#include "feed_hub.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <utility>

namespace attendance::services {

FeedHub::FeedHub(const ledger::Ledger& ledger, int workers, ledger::Clock clock)
    : ledger_(ledger), clock_(std::move(clock)) {
  watcher_ = std::thread([this] { Watch(); });
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { Work(); });
}

FeedHub::~FeedHub() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_ready_.notify_all();
  watcher_.join();
  for (std::thread& worker : workers_) worker.join();
}

void FeedHub::Add(std::shared_ptr<FeedSubscription> subscription) {
  std::lock_guard lock(mu_);
  const FeedSubscription* key = subscription.get();
  subscriptions_.emplace(key, std::move(subscription));
}

void FeedHub::Remove(const FeedSubscription* subscription) {
  std::shared_ptr<FeedSubscription> last;  // released outside the lock
  std::lock_guard lock(mu_);
  if (auto it = subscriptions_.find(subscription); it != subscriptions_.end()) {
    last = std::move(it->second);
    subscriptions_.erase(it);
  }
}

void FeedHub::Schedule(std::shared_ptr<FeedSubscription> subscription) {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    work_.push_back(std::move(subscription));
  }
  work_ready_.notify_one();
}

ledger::LocalTime FeedHub::Now() const {
  return ledger::SchoolLocalTime(
      clock_.NowUs() -
      std::chrono::duration_cast<std::chrono::microseconds>(kDayTurnGrace).count());
}

std::size_t FeedHub::size() const {
  std::lock_guard lock(mu_);
  return subscriptions_.size();
}

namespace {

// The run of `cache` holding `from`, or null.
std::optional<FeedHub::Slice> Find(
    const std::deque<std::shared_ptr<const ledger::EventChunk>>& cache, ledger::Position from) {
  if (cache.empty() || from < cache.front()->events[0].position() ||
      from > cache.back()->events.rbegin()->position()) {
    return std::nullopt;
  }
  auto it = std::upper_bound(
      cache.begin(), cache.end(), from,
      [](ledger::Position p, const auto& chunk) { return p < chunk->events[0].position(); });
  const auto& chunk = *std::prev(it);
  return FeedHub::Slice{chunk, static_cast<int>(from - chunk->events[0].position())};
}

}  // namespace

absl::StatusOr<FeedHub::Slice> FeedHub::Read(ledger::Position from, ledger::ChunkLimits limits) {
  bool older = false;
  {
    std::lock_guard lock(cache_mu_);
    if (auto slice = Find(cache_, from)) return *slice;
    older = !cache_.empty() && from < cache_.front()->events[0].position();
  }
  if (older) {  // older than the runs kept: this subscriber's own read from disk
    auto chunk = std::make_shared<ledger::EventChunk>();
    if (absl::Status s = ledger_.ReadChunk(from, limits, *chunk); !s.ok()) return s;
    return Slice{std::move(chunk), 0};
  }
  // Past the runs kept: the first subscriber there reads the next run for
  // all (the others wait for it, then find it).
  std::lock_guard extend(extend_mu_);
  ledger::Position start;
  {
    std::lock_guard lock(cache_mu_);
    if (auto slice = Find(cache_, from)) return *slice;
    start = cache_.empty() ? from : cache_.back()->events.rbegin()->position() + 1;
    if (from != start) {  // a gap (a subscriber ahead of the runs): start again there
      cache_.clear();
      cached_events_ = 0;
      start = from;
    }
  }
  auto chunk = std::make_shared<ledger::EventChunk>();
  if (absl::Status s = ledger_.ReadChunk(start, limits, *chunk); !s.ok()) return s;
  if (chunk->events.empty()) return Slice{std::move(chunk), 0};
  std::lock_guard lock(cache_mu_);
  cache_.push_back(chunk);
  cached_events_ += static_cast<std::size_t>(chunk->events.size());
  while (cache_.size() > 1 && cached_events_ > kCachedEvents) {
    cached_events_ -= static_cast<std::size_t>(cache_.front()->events.size());
    cache_.pop_front();
  }
  return Slice{std::move(chunk), 0};
}

void FeedHub::Watch() {
  ledger::Position seen = ledger_.LastPosition();
  std::vector<std::shared_ptr<FeedSubscription>> batch;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    seen = ledger_.WaitForCommit(seen, std::chrono::steady_clock::now() + kPollInterval);
    const auto now = std::chrono::steady_clock::now();
    const ledger::LocalTime school_now = Now();
    {
      // Poked outside the lock, so a subscription's own lock is never taken
      // under the hub's (OnDone removes under the hub's lock).
      std::lock_guard lock(mu_);
      batch.clear();
      for (const auto& [key, subscription] : subscriptions_) batch.push_back(subscription);
    }
    for (const auto& subscription : batch) subscription->Poke(seen, now, school_now);
    batch.clear();
  }
}

void FeedHub::Work() {
  for (;;) {
    std::shared_ptr<FeedSubscription> next;
    {
      std::unique_lock lock(mu_);
      work_ready_.wait(lock, [this] { return stop_ || !work_.empty(); });
      if (stop_) return;
      next = std::move(work_.front());
      work_.pop_front();
    }
    next->Fill();
  }
}

}  // namespace attendance::services
