#pragma once

// The hash-chain check of VerifyChain, split between the thread that reads
// the log and threads that hash (event_reader.cc reads, chain_check.cc
// hashes). Every event's hash is SHA-256(the previous event's *stored* hash
// || its stored bytes), so once the reader has the bytes, each event can be
// checked on its own, in any order, on any thread.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "ledger/types.h"

namespace attendance::ledger {

class ParallelChainCheck {
 public:
  // `hashers` threads (at least 1) hash what Add hands them.
  explicit ParallelChainCheck(int hashers);
  ~ParallelChainCheck();  // Finish()
  ParallelChainCheck(const ParallelChainCheck&) = delete;
  ParallelChainCheck& operator=(const ParallelChainCheck&) = delete;

  // One stored event, in log order, with the stored hash of the one before
  // it. The bytes are copied. Blocks while the hashers are behind (a few
  // batches are buffered at most).
  void Add(Position position, std::string_view prev_hash, std::string_view hash,
           std::string_view body);
  // True once a hasher has found a bad event: the reader may stop early
  // (Finish still names the first one).
  bool failed() const { return failed_.load(std::memory_order_relaxed); }
  // Waits for every event added, stops the hashers, and returns the first
  // failure by position: DATA_LOSS "position N: hash does not verify" or
  // "position N: stored event does not match its key"; OK if none.
  absl::Status Finish();

 private:
  // Consecutive events: each one's hash (32 bytes) then its body, in
  // `bytes`; prev_hash is the stored hash before the first.
  struct Batch {
    Position first = 0;
    std::string prev_hash;
    std::string bytes;
    std::vector<std::uint32_t> ends;  // end of each event's body in `bytes`
  };
  void Hash();
  void Submit();

  static constexpr std::size_t kEventsPerBatch = 4096;
  static constexpr std::size_t kMaxQueued = 4;

  Batch filling_;
  mutable std::mutex mu_;
  std::condition_variable work_;   // a batch queued, or done
  std::condition_variable space_;  // a batch taken
  std::deque<Batch> queue_;
  bool done_ = false;
  Position first_failure_ = 0;  // 0: none yet
  std::atomic<bool> failed_{false};
  absl::Status failure_;
  std::vector<std::thread> threads_;
  bool finished_ = false;
};

}  // namespace attendance::ledger
