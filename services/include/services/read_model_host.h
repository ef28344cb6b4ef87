#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "ledger/ledger.h"
#include "services/read_model.h"

namespace attendance::services {

struct ReadModelHostOptions {
  // Save a read model's checkpoint once this many events were applied since
  // its last one (checked where a run of events ends; always on Stop).
  std::uint64_t checkpoint_every_events = 250'000;
  // Events applied between two Publish calls while catching up; publishing
  // happens only at commit ends, so a request is never seen in part.
  std::uint32_t events_per_publish = 1024;
  // Ignore saved checkpoints: every read model is rebuilt from position 1
  // (after a fold changed, or to check a checkpoint against a rebuild).
  bool ignore_checkpoints = false;
  // How much of the log a read model reads at once.
  ledger::ChunkLimits chunk;
};

// What the host knows of one read model.
struct ReadModelStatus {
  std::string name;
  ledger::Position position = 0;      // applied and published
  ledger::Position checkpointed = 0;  // last checkpoint written
  absl::Status status;                // not OK once the model has failed
};

// Runs several read models side by side on one ledger. For each: restores
// its checkpoint (or resets it when there is none, it cannot be restored,
// it is ahead of the log, or ignore_checkpoints), catches it up, then feeds
// it from the log's tail on its own thread. Read models do not wait for one
// another; one that fails is logged by name, shown by Statuses() and
// stopped, and the others and the ledger's writes go on.
//
// Thread-safe: Add/Start/Stop/Abandon from one thread; Statuses, WaitFor
// from any. The ledger and the read models must outlive the host.
class ReadModelHost {
 public:
  explicit ReadModelHost(ledger::Ledger* ledger, ReadModelHostOptions options = {});
  ~ReadModelHost();  // Stop()
  ReadModelHost(const ReadModelHost&) = delete;
  ReadModelHost& operator=(const ReadModelHost&) = delete;

  // Before Start. `checkpoint_every_events` 0 = the host's option; a model
  // that reads_from_store() is checkpointed at every publish.
  // INVALID_ARGUMENT: a name already added, or one the ledger refuses.
  absl::Status Add(ReadModel* model, std::uint64_t checkpoint_every_events = 0);

  // Starts every read model and returns once each has caught up with the
  // log as it was at the call, or failed (see Statuses). FAILED_PRECONDITION
  // if already started.
  absl::Status Start();
  // Stops the threads and saves a final checkpoint of each healthy model.
  void Stop();
  // Stops without the final checkpoints, as a crash would (for tests).
  void Abandon();

  std::vector<ReadModelStatus> Statuses() const;

  // Waits until read model `name` has published `position`, it failed, or
  // `deadline` passed. OK when it reached it; NOT_FOUND for an unknown name;
  // UNAVAILABLE naming the model and its error if it failed;
  // DEADLINE_EXCEEDED "read model N at position X, asked for Y" otherwise.
  // What readers see reaches `position` once this is OK (not once the
  // model's position() does, which runs ahead); it takes no lock then.
  absl::Status WaitFor(const std::string& name, ledger::Position position,
                       std::chrono::steady_clock::time_point deadline) const;

 private:
  struct Hosted;

  absl::Status Prepare(Hosted& hosted);
  void Run(Hosted& hosted);
  // Publishes, notifies waiters and checkpoints if due (or `force`).
  absl::Status Publish(Hosted& hosted, bool force_checkpoint);
  absl::Status Checkpoint(Hosted& hosted);
  void Fail(Hosted& hosted, absl::Status status);
  void StopThreads();
  bool stopping() const { return stop_.load(std::memory_order_acquire); }

  ledger::Ledger* ledger_;
  ReadModelHostOptions options_;
  std::vector<std::unique_ptr<Hosted>> models_;
  std::atomic<bool> stop_{false};
  bool started_ = false;

  mutable std::mutex mu_;  // statuses, and the sleep of WaitFor
  mutable std::condition_variable changed_;
};

}  // namespace attendance::services
