#pragma once

// The RocksDB-backed Ledger: one DB, one WAL, a column family per key space
// (see keys.h), and a single writer thread that group-commits commands.
// Private to ledger/src; its member functions live along the class's seams:
//   rocks_ledger.cc       commands in, checkpoints, backups, read-model stores
//   rocks_ledger_open.cc  RocksDB options, Open, Replay, the head record
//   commit_pipeline.cc    the writer and committer threads, recovery
//   request_log.cc        request ids: fingerprints, stored and in-flight answers
//   event_reader.cc       reading, following and verifying the log
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/write_buffer_manager.h>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "commands.h"
#include "commit_signal.h"
#include "event_reader.h"
#include "group.h"
#include "head_record.h"
#include "hot_state.h"
#include "keys.h"
#include "ledger/ledger.h"
#include "method.h"
#include "personal_keys.h"

namespace attendance::ledger {

// One command waiting for the writer thread.
struct Job {
  Method method = Method::kRecordMarks;
  const Principal* actor = nullptr;
  const google::protobuf::Message* request = nullptr;
  google::protobuf::Message* response = nullptr;
  std::function<absl::Status(CommandEnv&)> prepare;
  std::string school_id;
  std::string request_id;
  std::string fingerprint;
  std::size_t weight = 1;  // events it may append, for group sizing

  absl::Status status;
  bool done = false;
  // Set for asynchronous jobs, which the writer completes and deletes.
  std::function<void(Job&)> on_done;
};

// Owns what an asynchronous RecordMarks job points to.
struct AsyncMarks {
  Principal actor;
  v1::RecordMarksRequest request;
  v1::RecordMarksResponse response;
  std::function<void(absl::StatusOr<v1::RecordMarksResponse>)> done;
  Job job;
};

// A group prepared by the writer thread, waiting for the committer.
struct Prepared {
  std::uint64_t seq = 0;
  std::vector<Job*> jobs;
  std::unique_ptr<Group> group;
  Position last_position = 0;
};

// --- The request log (request_log.cc) ---

// A request id answers only a retry of the same request by the same caller:
// another caller replaying the id gets ALREADY_EXISTS, not the response.
std::string Fingerprint(Method method, const Principal& actor,
                        const google::protobuf::Message& request);

// Answers a retry from a stored request record (fingerprint, method,
// response): the original response, or ALREADY_EXISTS if the id was used
// for a different request.
void AnswerFromRecord(Job& job, std::string_view record);

// Checks that come before the request log is consulted, so that an
// unauthenticated caller cannot read a stored response by replaying an id.
absl::Status CheckSubmission(const Principal& actor, const std::string& school_id,
                             const std::string& request_id);

class RocksLedger final : public Ledger {
 public:
  explicit RocksLedger(LedgerOptions options)
      : options_(std::move(options)), state_(*options_.hot_from) {}
  ~RocksLedger() override;

  absl::Status Open();

  absl::StatusOr<v1::RecordMarksResponse> RecordMarks(
      const Principal& actor, const v1::RecordMarksRequest& request) override;
  void RecordMarksAsync(Principal actor, v1::RecordMarksRequest request,
                        std::function<void(absl::StatusOr<v1::RecordMarksResponse>)> done) override;
#define ATTENDANCE_DECLARE(Name, Request, Response, tag, access) \
  absl::StatusOr<v1::Response> Name(const Principal& actor, const v1::Request& request) override;
  ATTENDANCE_LEDGER_COMMANDS(ATTENDANCE_DECLARE)
#undef ATTENDANCE_DECLARE

  Position LastPosition() const override { return committed_.load(std::memory_order_acquire); }

  // Reading and following the log (event_reader.cc, tail.cc, commit_signal.h).
  absl::Status ForEachEvent(
      Position from, const std::function<bool(const v1::EventEnvelope&)>& visit) const override;
  absl::Status ReadChunk(Position from, ChunkLimits limits, EventChunk& chunk) const override;
  // ReadChunk's cut where no commit end is known (event_reader.cc).
  int LastRequestEnd(const google::protobuf::RepeatedPtrField<v1::EventEnvelope>& events,
                     Position last) const;
  Position WaitForCommit(Position after,
                         std::chrono::steady_clock::time_point deadline) const override;
  absl::Status VerifyChain(Position from, Position to) const override;
  absl::StatusOr<IndexVerification> VerifyIndexes() const override;

  absl::Status SaveCheckpoint(const std::string& name, const Checkpoint& checkpoint) override;
  absl::StatusOr<Checkpoint> LoadCheckpoint(const std::string& name) const override;
  absl::StatusOr<BackupInfo> CreateBackup(const std::string& backup_dir) override;
  absl::StatusOr<std::unique_ptr<ReadModelStore>> OpenReadModelStore(
      const std::string& name) override;

 private:
  // Visits stored events [from, to] in order, checking there are no gaps.
  absl::Status Scan(const rocksdb::Snapshot* snapshot, Position from, Position to,
                    const ScanFn& fn) const {
    return ScanEvents(*db_, cf_.events, snapshot, from, to, fn);
  }

  // Rebuilds the hot state from the log (rocks_ledger_open.cc).
  absl::Status Replay();

  // [storage] Head record and recovery from a full disk (issue 10).
  // Start-up cross-check: the recovered log must contain the head that the
  // last run recorded (head_record.h); from here on, keep recording it.
  absl::Status CheckHeadRecord();
  // After a commit failed for want of space, brings writes back without a
  // restart (commit_pipeline.cc says how).
  void RecoverAfterFailure();

  template <typename Response, typename Request, typename PrepareFn>
  absl::StatusOr<Response> Run(Method method, const Principal& actor, const Request& request,
                               const std::string& school_id, const std::string& request_id,
                               std::size_t weight, PrepareFn prepare) {
    if (options_.read_only) return ReadOnlyError();
    if (auto s = CheckSubmission(actor, school_id, request_id); !s.ok()) return s;
    Response response;
    Job job;
    job.method = method;
    job.actor = &actor;
    job.request = &request;
    job.response = &response;
    job.school_id = school_id;
    job.request_id = request_id;
    job.weight = weight;
    job.prepare = [&](CommandEnv& env) { return prepare(env, request, response); };
    if (!request_id.empty()) job.fingerprint = Fingerprint(method, actor, request);
    Submit(job);
    if (!job.status.ok()) return job.status;
    return response;
  }

  // [storage] The answer to writes while broken_: RESOURCE_EXHAUSTED while
  // the disk is full (they resume by themselves once space is freed),
  // UNAVAILABLE after any other storage failure.
  absl::Status BrokenError();

  static absl::Status ReadOnlyError() {
    return absl::FailedPreconditionError("the ledger was opened read-only");
  }

  static absl::Status StoppingError() {
    return absl::UnavailableError("the ledger is shutting down");
  }

  // --- The commit pipeline (commit_pipeline.cc) ---
  void Submit(Job& job);
  absl::StatusOr<std::string> CurrentCode(Group& group, const std::string& school_id,
                                          const std::string& pupil_id, const PupilState& pupil,
                                          Day day, v1::Session session);
  // Looks the request id up among groups in flight, then in RocksDB; true if
  // the job was answered (request_log.cc).
  bool AnswerFromRequestLog(Job& job, const std::string& key);
  // Wakes the callers of a finished group: synchronous callers see `done`;
  // asynchronous jobs get their callback and are deleted.
  void Complete(std::vector<Job*>& jobs);
  // Drops in-flight records of groups the committer has finished with.
  void PruneInFlight();
  // Stage 1: drain commands, validate them and build one WriteBatch per group.
  void WriterLoop();
  void PrepareGroup(Prepared& prepared);
  // Stage 2: write and sync each prepared group in order, then answer it.
  void CommitLoop();
  // After a group that erased pupil keys is durable: flushes the memtables
  // (so the WALs that held the keys are retired) and compacts the keys'
  // family, so that the deleted keys leave the live files (ADR 0003).
  void ShredErasedKeys();
  // Logs RocksDB's memtables, table readers and block cache, and the hot
  // state's size (writer thread).
  void LogMemory();

  LedgerOptions options_;
  // RocksDB's bounded memory (LedgerOptions::block_cache_bytes, ...).
  std::shared_ptr<rocksdb::Cache> block_cache_;
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffers_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  ColumnFamilies cf_;
  rocksdb::ColumnFamilyHandle* read_models_cf_ = nullptr;
  // Per-pupil keys of the sealed personal fields (personal_keys.h).
  PersonalKeys personal_keys_;

  // Owned by the writer thread (and by Open before it starts): the state
  // and chain head including every prepared group, durable or not yet.
  HotState state_;
  std::string prepared_hash_;
  std::uint64_t prepared_seq_ = 0;
  // Where memory goes (LogMemory), logged at info every kMemoryReportEvery
  // events: the position of the last report.
  static constexpr Position kMemoryReportEvery = 1'000'000;
  Position reported_at_ = 0;
  struct InFlight {
    std::string value;
    std::uint64_t seq;
  };
  // Request records and old-session marks of groups not yet durable, which
  // later groups must see although RocksDB does not have them yet.
  absl::flat_hash_map<std::string, InFlight> inflight_requests_;
  absl::flat_hash_map<std::string, InFlight> inflight_cold_marks_;

  // Between the writer and the committer.
  std::mutex commit_mu_;
  std::condition_variable commit_cv_;
  std::deque<std::unique_ptr<Prepared>> commit_queue_;
  bool writer_finished_ = false;
  std::atomic<std::uint64_t> finished_seq_{0};
  std::atomic<bool> broken_{false};
  std::thread committer_;

  std::atomic<Position> committed_{0};

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::condition_variable done_cv_;
  std::deque<Job*> queue_;
  bool stopping_ = false;
  std::thread writer_;

  // [storage] The head record's writer (set by Open), and the failure that
  // set broken_ (RESOURCE_EXHAUSTED: RecoverAfterFailure may lift it).
  std::unique_ptr<HeadRecorder> head_recorder_;
  std::mutex failure_mu_;
  absl::Status failure_;
  bool resume_failing_ = false;  // writer thread

  CommitSignal commit_signal_;  // followers of the log (ReadChunk, WaitForCommit)
};

}  // namespace attendance::ledger
