// The RocksDB-backed Ledger's two-stage commit pipeline: the writer thread
// prepares groups of commands on the hot state, the committer writes and
// syncs them in order; and recovery after a failed commit.
#include <condition_variable>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "keys.h"
#include "logger.h"
#include "rocks_ledger.h"
#include "rocks_status.h"

namespace attendance::ledger {
namespace {

// Commands the writer drains into one group; bounded so that one sync does
// not wait on an unbounded amount of work.
constexpr std::size_t kMaxJobsPerGroup = 256;
constexpr std::size_t kMaxEventsPerGroup = 50000;

// Prepared groups waiting for the committer, besides the one it is writing.
constexpr std::size_t kGroupsInFlight = 2;

}  // namespace

absl::Status RocksLedger::BrokenError() {
  std::lock_guard lock(failure_mu_);
  if (absl::IsResourceExhausted(failure_)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the data disk is full: writes are refused and resume by themselves once space is "
        "freed (",
        failure_.message(), ")"));
  }
  return absl::UnavailableError(
      absl::StrCat("the ledger stopped accepting writes after a storage failure; restart it (",
                   failure_.message(), ")"));
}

void RocksLedger::Submit(Job& job) {
  std::unique_lock lock(queue_mu_);
  if (stopping_) {
    job.status = StoppingError();
    return;
  }
  queue_.push_back(&job);
  queue_cv_.notify_all();
  done_cv_.wait(lock, [&] { return job.done; });
}

absl::StatusOr<std::string> RocksLedger::CurrentCode(Group& group, const std::string& school_id,
                                                     const std::string& pupil_id,
                                                     const PupilState& pupil, Day day,
                                                     v1::Session session) {
  if (state_.IsHot(day)) return UnpackCode(state_.MarkCode(pupil, day, session));
  const std::string key = keys::Mark(school_id, pupil_id, day, session);
  if (auto it = group.pending_cold_marks().find(key); it != group.pending_cold_marks().end()) {
    return it->second;
  }
  if (auto it = inflight_cold_marks_.find(key); it != inflight_cold_marks_.end()) {
    return it->second.value;
  }
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_.marks, key, &value);
  if (s.IsNotFound()) return std::string();
  if (auto st = FromRocks(s, "read mark"); !st.ok()) return st;
  return value.size() > 8 ? value.substr(8) : std::string();
}

// Wakes the callers of a finished group: synchronous callers see `done`;
// asynchronous jobs get their callback and are deleted.
void RocksLedger::Complete(std::vector<Job*>& jobs) {
  // A waiting caller's Job lives on its stack and is gone once it sees
  // `done`, so asynchronous jobs are set aside before anyone is woken.
  std::vector<Job*> async_jobs;
  bool any_waiting = false;
  {
    std::lock_guard lock(queue_mu_);
    for (Job* job : jobs) {
      if (job->on_done) {
        async_jobs.push_back(job);
      } else {
        job->done = true;
        any_waiting = true;
      }
    }
  }
  if (any_waiting) done_cv_.notify_all();
  for (Job* job : async_jobs) {
    // The callback deletes the job that holds it: call a moved-out copy.
    auto on_done = std::move(job->on_done);
    on_done(*job);
  }
}

void RocksLedger::PruneInFlight() {
  const std::uint64_t finished = finished_seq_.load(std::memory_order_acquire);
  for (auto* map : {&inflight_requests_, &inflight_cold_marks_}) {
    for (auto it = map->begin(); it != map->end();) {
      if (it->second.seq <= finished) {
        map->erase(it++);
      } else {
        ++it;
      }
    }
  }
}

// Stage 1 of the pipeline: drain commands, validate them against the hot
// state and build one WriteBatch per group. While the committer syncs
// group N, this thread already prepares group N+1 on the state that
// includes N's events; if N fails to commit, N+1 fails with it.
void RocksLedger::WriterLoop() {
  for (;;) {
    auto prepared = std::make_unique<Prepared>();
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) break;
      std::size_t events = 0;
      while (!queue_.empty() && prepared->jobs.size() < kMaxJobsPerGroup &&
             (prepared->jobs.empty() || events + queue_.front()->weight <= kMaxEventsPerGroup)) {
        events += queue_.front()->weight;
        prepared->jobs.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    PruneInFlight();
    PrepareGroup(*prepared);
    std::unique_lock lock(commit_mu_);
    commit_cv_.wait(lock, [&] { return commit_queue_.size() < kGroupsInFlight; });
    commit_queue_.push_back(std::move(prepared));
    commit_cv_.notify_all();
  }
  std::lock_guard lock(commit_mu_);
  writer_finished_ = true;
  commit_cv_.notify_all();
}

void RocksLedger::PrepareGroup(Prepared& prepared) {
  if (broken_.load()) RecoverAfterFailure();  // [storage]
  prepared.seq = ++prepared_seq_;
  const std::int64_t now = options_.clock.NowUs();
  prepared.group = std::make_unique<Group>(state_, cf_, personal_keys_, prepared_hash_, now);
  Group& group = *prepared.group;
  for (Job* job : prepared.jobs) {
    if (broken_.load()) {
      job->status = BrokenError();
      continue;
    }
    std::string request_key;
    if (!job->request_id.empty()) {
      request_key = keys::Request(job->school_id, job->request_id);
      if (AnswerFromRequestLog(*job, request_key)) continue;
    }
    CommandEnv env{state_, group, *job->actor, job->request_id,
                   [&](const std::string& school, const std::string& pupil_id,
                       const PupilState& pupil, Day day, v1::Session session) {
                     return CurrentCode(group, school, pupil_id, pupil, day, session);
                   }};
    const std::size_t appended_before = group.appended();
    job->status = job->prepare(env);
    // A record names the events its request wrote. Of the commands that
    // append nothing, an import whose marks were all there keeps one naming
    // no events (so its retry replays the same counts); an erasure already
    // done answers the earlier erasure's position, which another request
    // wrote, so it keeps none.
    if (!job->status.ok() || request_key.empty()) continue;
    if (group.appended() == appended_before && job->method != Method::kImportHistory) continue;
    std::string record = job->fingerprint;
    record.push_back(static_cast<char>(job->method));
    job->response->AppendToString(&record);
    group.batch().Put(cf_.requests, request_key, record);
    // Later commands with this id, in this group or the next, are answered
    // from here (fingerprint and method checked) until it is durable.
    inflight_requests_[std::move(request_key)] = {std::move(record), prepared.seq};
  }
  for (auto& [key, code] : group.pending_cold_marks()) {
    inflight_cold_marks_[key] = {code, prepared.seq};
  }
  group.Seal();
  prepared_hash_ = group.prev_hash();
  const Position before = prepared.last_position = state_.last_position();
  if (before / kMemoryReportEvery != reported_at_ / kMemoryReportEvery) LogMemory();
  reported_at_ = before;
}

void RocksLedger::CommitLoop() {
  for (;;) {
    std::unique_ptr<Prepared> prepared;
    {
      std::unique_lock lock(commit_mu_);
      commit_cv_.wait(lock, [&] { return writer_finished_ || !commit_queue_.empty(); });
      if (commit_queue_.empty()) return;
      prepared = std::move(commit_queue_.front());
      commit_queue_.pop_front();
      commit_cv_.notify_all();
    }
    Group& group = *prepared->group;
    absl::Status s;
    if (broken_.load()) {
      // An earlier group failed: this one was prepared on state that
      // included it, so every answer in it (replays and rejections too)
      // may be wrong.
      s = BrokenError();
    } else if (group.batch().Count() > 0) {
      // (A group may hold only request records: an ImportHistory whose
      // marks were all there already writes no event, but its answer.)
      rocksdb::WriteOptions write;
      write.sync = options_.sync;
      s = FromRocks(db_->Write(write, &group.batch()), "write events");
      if (s.ok()) {
        if (!group.empty()) {
          committed_.store(prepared->last_position, std::memory_order_release);
          head_recorder_->Advance(prepared->last_position, group.prev_hash());  // [storage]
          commit_signal_.Committed(prepared->last_position);  // wakes followers of the log
        }
        if (group.erased_keys()) ShredErasedKeys();
      } else {
        // The hot state already holds this group's events (and maybe the
        // next groups'); it can no longer be trusted, so refuse writes
        // until RecoverAfterFailure (a full disk) or a restart rebuilds it.
        {
          std::lock_guard failure_lock(failure_mu_);  // [storage]
          failure_ = s;
        }
        broken_ = true;
        SPDLOG_LOGGER_ERROR(&Log(), "commit of {} events failed: {}", group.appended(),
                            s.ToString());
      }
    }
    if (!s.ok()) {
      for (Job* job : prepared->jobs) job->status = s;
    }
    finished_seq_.store(prepared->seq, std::memory_order_release);
    if (broken_.load()) {
      // [storage] RecoverAfterFailure waits for the committer to drain.
      { std::lock_guard drained_lock(commit_mu_); }
      commit_cv_.notify_all();
    }
    Complete(prepared->jobs);
  }
}

void RocksLedger::ShredErasedKeys() {
  // Best effort: the deletion itself is durable already; a failure here
  // leaves the old key bytes in files until RocksDB compacts them anyway.
  absl::Status s = FromRocks(db_->Flush(rocksdb::FlushOptions(), handles_), "flush after erasure");
  if (s.ok()) {
    rocksdb::CompactRangeOptions compact;
    compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    s = FromRocks(db_->CompactRange(compact, cf_.pupil_keys, nullptr, nullptr),
                  "compact pupil keys after erasure");
  }
  if (!s.ok()) SPDLOG_LOGGER_WARN(&Log(), "erased keys not yet compacted away: {}", s.ToString());
}

// After a commit failed for want of space, brings writes back without a
// restart. Runs on the writer thread, which owns all it rebuilds. Once
// every group prepared on the failed state has left the committer, it
// resumes RocksDB (DB::Resume flushes the memtables and moves to a new
// WAL, so the failed WAL tail is never replayed), rebuilds the hot state
// and chain head from the durable log (Replay), forgets the in-flight
// records and accepts writes again. While the disk is still full Resume
// fails, the group being prepared is answered RESOURCE_EXHAUSTED, and the
// next group tries again. Other failures (EIO, a failed fsync) are not
// retried: a restart must rebuild from what is really on disk.
void RocksLedger::RecoverAfterFailure() {
  {
    std::lock_guard lock(failure_mu_);
    if (!absl::IsResourceExhausted(failure_)) return;
  }
  {
    std::unique_lock lock(commit_mu_);
    commit_cv_.wait(lock,
                    [&] { return finished_seq_.load(std::memory_order_acquire) == prepared_seq_; });
  }
  // RocksDB's own SstFileManager also retries every 5 s, once as much
  // space is free as the largest write buffer (64 MB), which a flush may
  // need; while it does, Resume is Busy (ABORTED here). Either way the
  // disk is still too full: keep answering RESOURCE_EXHAUSTED.
  if (absl::Status s = FromRocks(db_->Resume(), "resume after a full disk"); !s.ok()) {
    if (!resume_failing_) SPDLOG_LOGGER_WARN(&Log(), "writes still refused: {}", s.ToString());
    resume_failing_ = true;
    std::lock_guard lock(failure_mu_);
    if (!absl::IsResourceExhausted(s) && !absl::IsAborted(s)) failure_ = s;
    return;
  }
  resume_failing_ = false;
  state_ = HotState(*options_.hot_from);
  prepared_hash_.clear();
  // Keys of groups that failed to commit were never stored.
  if (absl::Status s = personal_keys_.Load(*db_, cf_.pupil_keys); !s.ok()) {
    SPDLOG_LOGGER_ERROR(&Log(), "reloading pupil keys after a full disk failed: {}", s.ToString());
    std::lock_guard lock(failure_mu_);
    failure_ = s;
    return;
  }
  inflight_requests_.clear();
  inflight_cold_marks_.clear();
  if (absl::Status s = Replay(); !s.ok()) {
    SPDLOG_LOGGER_ERROR(&Log(), "rebuild after a full disk failed: {}", s.ToString());
    std::lock_guard lock(failure_mu_);
    failure_ = s;
    return;
  }
  {
    std::lock_guard lock(failure_mu_);
    failure_ = absl::OkStatus();
  }
  broken_ = false;
  SPDLOG_LOGGER_INFO(&Log(), "space is back: writes accepted again after position {}",
                     committed_.load());
}

}  // namespace attendance::ledger
