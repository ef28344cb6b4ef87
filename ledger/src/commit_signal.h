#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "ledger/types.h"

namespace attendance::ledger {

// How the commit path tells followers of the log that the head moved, and
// remembers where recent commits ended. Committed() is called by the one
// committer thread after it published the new head; it takes the waiters'
// mutex only for the wake-up (waiters hold it just to test the head), and
// never waits for a follower. Thread-safe.
class CommitSignal {
 public:
  // `end` is the last position of a durable commit.
  void Committed(Position end);

  // Waits until `done()` or `deadline`; `done` must be cheap (an atomic load).
  template <typename Done>
  void Wait(std::chrono::steady_clock::time_point deadline, Done done) const {
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, deadline, done);
  }

  // The last position in [from, to] known to end a commit, or 0. Only the
  // most recent kRememberedCommits are known.
  Position LastKnownEndIn(Position from, Position to) const;

 private:
  // Enough for a reader thousands of commits behind (a read model catching
  // up with a busy writer): a reader that learns no end inside its chunk
  // cannot publish it, and its unpublished state grows.
  static constexpr std::size_t kRememberedCommits = 16384;
  // A ring written by the committer alone; every value ever stored in a
  // slot is a commit end, so a reader racing with a write reads either the
  // old or the new end, both true.
  std::array<std::atomic<Position>, kRememberedCommits> ends_{};
  std::uint64_t next_slot_ = 0;  // committer only
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
};

}  // namespace attendance::ledger
