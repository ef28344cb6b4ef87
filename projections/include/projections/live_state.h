#pragma once

#include <atomic>
#include <shared_mutex>
#include <utility>

#include "attendance/v1/events.pb.h"
#include "ledger/types.h"

namespace attendance::projections {

// A projection's state shared by one writer (its read model on the host, or
// a test) and many readers (the gRPC handlers). `State` has Apply(event) and
// position(), and is movable.
//
// Readers take a shared lock for the length of one query (a pupil: about a
// microsecond; a 2,000-pupil cohort table: a few milliseconds); the writer
// takes the exclusive lock for a bounded batch of events at a time. Neither
// ever runs on the ledger's writer thread, so reads never block ledger writes.
template <typename State>
class LiveState {
 public:
  LiveState() = default;
  LiveState(const LiveState&) = delete;
  LiveState& operator=(const LiveState&) = delete;

  // Calls `read(const State&)` under the shared lock and returns what it
  // returns. `read` must not call back into this object.
  template <typename F>
  auto Read(F&& read) const {
    std::shared_lock lock(mu_);
    return std::forward<F>(read)(state_);
  }

  // Writer side: exclusive access for a batch of Apply calls.
  class WriteLock {
   public:
    explicit WriteLock(LiveState& live) : live_(live), lock_(live.mu_) {}
    void Apply(const v1::EventEnvelope& event) {
      live_.state_.Apply(event);
      live_.position_.store(live_.state_.position(), std::memory_order_release);
    }
    // Lets waiting readers in between batches.
    void Yield() {
      lock_.unlock();
      lock_.lock();
    }

   private:
    LiveState& live_;
    std::unique_lock<std::shared_mutex> lock_;
  };

  void Apply(const v1::EventEnvelope& event) { WriteLock(*this).Apply(event); }
  void Replace(State state) {
    std::unique_lock lock(mu_);
    state_ = std::move(state);
    position_.store(state_.position(), std::memory_order_release);
  }

  // The last position applied, without taking the lock.
  ledger::Position position() const { return position_.load(std::memory_order_acquire); }

 private:
  mutable std::shared_mutex mu_;
  State state_;
  std::atomic<ledger::Position> position_{0};
};

}  // namespace attendance::projections
