#include "commit_signal.h"

namespace attendance::ledger {

void CommitSignal::Committed(Position end) {
  ends_[next_slot_++ % kRememberedCommits].store(end, std::memory_order_release);
  // Taken empty so that a waiter between its test and its sleep cannot miss
  // the wake-up.
  { std::lock_guard lock(mu_); }
  cv_.notify_all();
}

Position CommitSignal::LastKnownEndIn(Position from, Position to) const {
  Position best = 0;
  for (const auto& slot : ends_) {
    const Position end = slot.load(std::memory_order_acquire);
    if (end >= from && end <= to && end > best) best = end;
  }
  return best;
}

}  // namespace attendance::ledger
