#pragma once

#include <deque>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "ledger/ledger.h"
#include "projections/live_attendance.h"

namespace attendance::projections {

struct ProjectionRunnerOptions {
  // Name of the checkpoint in Ledger::SaveCheckpoint / LoadCheckpoint.
  std::string checkpoint_name = "projections.attendance.v1";
  // Save a checkpoint after this many events have been applied since the
  // last one (and always on Stop).
  std::uint64_t checkpoint_every_events = 250'000;
  // Events applied per exclusive lock hold while catching up.
  std::uint32_t events_per_lock = 1024;
  // Start from position 1 whatever checkpoint is stored (which the next
  // checkpoint then replaces): `ledgerd --rebuild-read-models`.
  bool ignore_checkpoint = false;
};

// Keeps a LiveAttendance up to date with a Ledger.
//
// Start() restores the last checkpoint (or starts from zero when there is
// none, or it cannot be decoded, or it is ahead of the log), catches up
// synchronously, then follows the log on a background thread woken by the
// ledger's commit listener, which only records the position and signals.
// Stop() (also run by the destructor) joins the thread and saves a
// checkpoint. Thread-safe: Start/Stop from one thread; CatchUp, WaitFor and
// SaveCheckpoint from any.
//
// The ledger must outlive the runner.
class ProjectionRunner {
 public:
  ProjectionRunner(ledger::Ledger* ledger, LiveAttendance* live,
                   ProjectionRunnerOptions options = {});
  ~ProjectionRunner();
  ProjectionRunner(const ProjectionRunner&) = delete;
  ProjectionRunner& operator=(const ProjectionRunner&) = delete;

  // Errors: FAILED_PRECONDITION if already started; those of LoadCheckpoint
  // other than NOT_FOUND; those of ForEachEvent (e.g. DATA_LOSS for an
  // undecodable stored event, or a gap in positions).
  absl::Status Start();
  void Stop();

  // Applies every event committed so far. Safe to call while running.
  absl::Status CatchUp();
  absl::Status SaveCheckpoint();

  // Blocks until the projection reflects `position` or `timeout` passes;
  // returns whether it does (e.g. to read one's own writes).
  bool WaitFor(ledger::Position position, std::chrono::milliseconds timeout);

 private:
  void Loop();
  void OnCommit(ledger::Position position);
  void NotifyApplied();

  ledger::Ledger* ledger_;
  LiveAttendance* live_;
  ProjectionRunnerOptions options_;

  std::mutex catch_up_mu_;  // one catch-up (and checkpoint) at a time
  ledger::Position checkpointed_ = 0;

  std::mutex mu_;
  std::condition_variable wake_;     // the loop: new commits or stop
  std::condition_variable applied_;  // WaitFor
  ledger::Position committed_ = 0;
  static constexpr std::size_t kMaxCommitEnds = 4096;
  std::deque<ledger::Position> commit_ends_;  // guarded by mu_, ascending
  bool stop_ = false;
  bool started_ = false;
  std::thread thread_;
};

}  // namespace attendance::projections
