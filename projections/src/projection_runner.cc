#include "projections/projection_runner.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "logger.h"

namespace attendance::projections {

ProjectionRunner::ProjectionRunner(ledger::Ledger* ledger, LiveAttendance* live,
                                   ProjectionRunnerOptions options)
    : ledger_(ledger), live_(live), options_(std::move(options)) {
  if (options_.events_per_lock == 0) options_.events_per_lock = 1;
}

ProjectionRunner::~ProjectionRunner() { Stop(); }

absl::Status ProjectionRunner::Start() {
  {
    std::lock_guard lock(mu_);
    if (started_) return absl::FailedPreconditionError("projection runner already started");
  }
  absl::StatusOr<ledger::Ledger::Checkpoint> checkpoint = absl::NotFoundError("not loaded");
  if (options_.ignore_checkpoint) {
    SPDLOG_LOGGER_INFO(&Log(), "ignoring checkpoint {}; rebuilding from position 1",
                       options_.checkpoint_name);
  } else {
    checkpoint = ledger_->LoadCheckpoint(options_.checkpoint_name);
  }
  if (checkpoint.ok()) {
    absl::StatusOr<AttendanceState> state = AttendanceState::Decode(checkpoint->state);
    if (!state.ok()) {
      SPDLOG_LOGGER_WARN(&Log(), "checkpoint {} unusable ({}); rebuilding from position 1",
                         options_.checkpoint_name, state.status().ToString());
    } else if (state->position() != checkpoint->position ||
               checkpoint->position > ledger_->LastPosition()) {
      SPDLOG_LOGGER_WARN(&Log(),
                         "checkpoint {} at position {} does not match the log (last {}); "
                         "rebuilding from position 1",
                         options_.checkpoint_name, checkpoint->position, ledger_->LastPosition());
    } else {
      SPDLOG_LOGGER_INFO(&Log(), "restored {} at position {}", options_.checkpoint_name,
                         checkpoint->position);
      live_->Replace(std::move(*state));
      std::lock_guard lock(catch_up_mu_);
      checkpointed_ = checkpoint->position;
    }
  } else if (checkpoint.status().code() != absl::StatusCode::kNotFound) {
    return checkpoint.status();
  }

  {
    std::lock_guard lock(mu_);
    stop_ = false;
    started_ = true;
  }
  // Listen before the first catch-up so that no commit falls between them.
  ledger_->SetCommitListener([this](ledger::Position p) { OnCommit(p); });
  if (absl::Status s = CatchUp(); !s.ok()) {
    ledger_->SetCommitListener({});
    std::lock_guard lock(mu_);
    started_ = false;
    return s;
  }
  SPDLOG_LOGGER_INFO(&Log(), "attendance projection at position {}", live_->position());
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void ProjectionRunner::Stop() {
  {
    std::lock_guard lock(mu_);
    if (!started_) return;
    started_ = false;
    stop_ = true;
  }
  ledger_->SetCommitListener({});
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (absl::Status s = SaveCheckpoint(); !s.ok()) {
    SPDLOG_LOGGER_WARN(&Log(), "final checkpoint failed: {}", s.ToString());
  }
}

void ProjectionRunner::OnCommit(ledger::Position position) {
  // On the ledger's writer thread: record and signal, nothing else.
  {
    std::lock_guard lock(mu_);
    if (position > committed_) committed_ = position;
    // Readers may be let in only between whole commits (see CatchUp); keep
    // a bounded list of where commits end.
    if (commit_ends_.size() >= kMaxCommitEnds) commit_ends_.pop_front();
    commit_ends_.push_back(position);
  }
  wake_.notify_one();
}

void ProjectionRunner::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    wake_.wait(lock, [&] { return stop_ || committed_ > live_->position(); });
    if (stop_) break;
    lock.unlock();
    absl::Status s = CatchUp();
    if (!s.ok()) SPDLOG_LOGGER_ERROR(&Log(), "projection catch-up failed: {}", s.ToString());
    lock.lock();
    // On failure, retry on the next commit or after a pause.
    if (!s.ok()) wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_; });
  }
}

absl::Status ProjectionRunner::CatchUp() {
  std::lock_guard guard(catch_up_mu_);
  const ledger::Position from = live_->position() + 1;
  absl::Status gap;
  absl::Status status;
  // Positions where a commit ends: a request's events are never split
  // across commits, so letting readers in only there means a query never
  // sees half of a batch.
  std::vector<ledger::Position> commit_ends;
  {
    std::lock_guard lock(mu_);
    while (!commit_ends_.empty() && commit_ends_.front() < from) commit_ends_.pop_front();
    commit_ends.assign(commit_ends_.begin(), commit_ends_.end());
  }
  {
    LiveAttendance::WriteLock write(*live_);
    std::uint32_t in_batch = 0;
    ledger::Position expected = from;
    status = ledger_->ForEachEvent(from, [&](const v1::EventEnvelope& event) {
      if (event.position() != expected) {
        gap = absl::DataLossError(
            absl::StrCat("projection: expected position ", expected, ", got ", event.position()));
        return false;
      }
      ++expected;
      write.Apply(event);
      if (++in_batch >= options_.events_per_lock &&
          std::binary_search(commit_ends.begin(), commit_ends.end(), event.position())) {
        in_batch = 0;
        write.Yield();
        NotifyApplied();
      }
      return true;
    });
  }
  NotifyApplied();
  if (!gap.ok()) status = gap;
  if (!status.ok()) return status;
  if (live_->position() - checkpointed_ >= options_.checkpoint_every_events) {
    ledger::Ledger::Checkpoint checkpoint;
    checkpoint.state = live_->Read([&](const AttendanceState& state) {
      checkpoint.position = state.position();
      return state.Encode();
    });
    if (absl::Status s = ledger_->SaveCheckpoint(options_.checkpoint_name, checkpoint); !s.ok()) {
      SPDLOG_LOGGER_WARN(&Log(), "checkpoint failed: {}", s.ToString());
    } else {
      checkpointed_ = checkpoint.position;
    }
  }
  return absl::OkStatus();
}

absl::Status ProjectionRunner::SaveCheckpoint() {
  std::lock_guard guard(catch_up_mu_);
  ledger::Ledger::Checkpoint checkpoint;
  checkpoint.state = live_->Read([&](const AttendanceState& state) {
    checkpoint.position = state.position();
    return state.Encode();
  });
  if (checkpoint.position == checkpointed_ && checkpointed_ != 0) return absl::OkStatus();
  absl::Status s = ledger_->SaveCheckpoint(options_.checkpoint_name, checkpoint);
  if (s.ok()) checkpointed_ = checkpoint.position;
  return s;
}

void ProjectionRunner::NotifyApplied() {
  // Under mu_, so that a WaitFor between its check and its sleep cannot miss it.
  { std::lock_guard lock(mu_); }
  applied_.notify_all();
}

bool ProjectionRunner::WaitFor(ledger::Position position, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return applied_.wait_for(lock, timeout, [&] { return live_->position() >= position; });
}

}  // namespace attendance::projections
