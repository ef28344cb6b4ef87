#include "feed_hub.h"

#include <utility>

namespace attendance::services {

FeedHub::FeedHub(const ledger::Ledger& ledger, int workers) : ledger_(ledger) {
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

std::size_t FeedHub::size() const {
  std::lock_guard lock(mu_);
  return subscriptions_.size();
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
    {
      // Poked outside the lock, so a subscription's own lock is never taken
      // under the hub's (OnDone removes under the hub's lock).
      std::lock_guard lock(mu_);
      batch.clear();
      for (const auto& [key, subscription] : subscriptions_) batch.push_back(subscription);
    }
    for (const auto& subscription : batch) subscription->Poke(seen, now);
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
