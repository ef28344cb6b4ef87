#pragma once

#include <atomic>
#include <shared_mutex>
#include <utility>

#include "attendance/v1/events.pb.h"
#include "ledger/types.h"
#include "projections/escalation.h"

namespace attendance::projections {

// The escalation state shared by one writer (services::EscalationReadModel)
// and the Escalation gRPC handlers, as LiveAttendance is for the figures:
// readers take a shared lock for one query, the writer the exclusive lock
// for a run of events up to a commit end.
class LiveEscalation {
 public:
  LiveEscalation() = default;
  LiveEscalation(const LiveEscalation&) = delete;
  LiveEscalation& operator=(const LiveEscalation&) = delete;

  template <typename F>
  auto Read(F&& read) const {
    std::shared_lock lock(mu_);
    return std::forward<F>(read)(state_);
  }

  class WriteLock {
   public:
    explicit WriteLock(LiveEscalation& live) : live_(live), lock_(live.mu_) {}
    void Apply(const v1::EventEnvelope& event) {
      live_.state_.Apply(event);
      live_.position_.store(live_.state_.position(), std::memory_order_release);
    }

   private:
    LiveEscalation& live_;
    std::unique_lock<std::shared_mutex> lock_;
  };

  void Apply(const v1::EventEnvelope& event) { WriteLock(*this).Apply(event); }
  void Replace(EscalationState state) {
    std::unique_lock lock(mu_);
    state_ = std::move(state);
    position_.store(state_.position(), std::memory_order_release);
  }
  ledger::Position position() const { return position_.load(std::memory_order_acquire); }

 private:
  mutable std::shared_mutex mu_;
  EscalationState state_;
  std::atomic<ledger::Position> position_{0};
};

}  // namespace attendance::projections
