// The RocksDB-backed Ledger: one DB, one WAL, a column family per key space
// (see keys.h), and a single writer thread that group-commits commands.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

#include "absl/strings/str_cat.h"
#include "backup_impl.h"
#include "commands.h"
#include "commit_signal.h"
#include "fault/power_loss_fs.h"
#include "group.h"
#include "head_record.h"
#include "hot_state.h"
#include "keys.h"
#include "ledger/ledger.h"
#include "logger.h"
#include "open_db.h"
#include "read_model_store.h"
#include "rocks_info_log.h"
#include "rocks_status.h"
#include "validation.h"
#include "verify_indexes.h"

namespace attendance::ledger {
namespace {

// Commands the writer drains into one group; bounded so that one sync does
// not wait on an unbounded amount of work.
constexpr std::size_t kMaxJobsPerGroup = 256;
constexpr std::size_t kMaxEventsPerGroup = 50000;
// Events read through one RocksDB iterator by ForEachEvent: bounds how long
// one iterator (and the memtables it pins) lives while its reader works.
constexpr Position kEventsPerIterator = 1000;

enum class Method : char {
  kRecordMarks = 'M',
  kAmendMark = 'A',
  kRecordLetter = 'L',
  kEnrolPupil = 'E',
  kUpdatePupil = 'U',
  kRemoveFromRoll = 'R',
  kSetSchoolCalendar = 'C',
  kSetSchoolSettings = 'S',
};

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

// Prepared groups waiting for the committer, besides the one it is writing.
constexpr std::size_t kGroupsInFlight = 2;

// Owns what an asynchronous RecordMarks job points to.
struct AsyncMarks {
  Principal actor;
  v1::RecordMarksRequest request;
  v1::RecordMarksResponse response;
  std::function<void(absl::StatusOr<v1::RecordMarksResponse>)> done;
  Job job;
};

// A request id answers only a retry of the same request by the same caller:
// another caller replaying the id gets ALREADY_EXISTS, not the response.
std::string Fingerprint(Method method, const Principal& actor,
                        const google::protobuf::Message& request) {
  std::string bytes(1, static_cast<char>(method));
  bytes.append(actor.name);
  bytes.push_back('\0');
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    request.SerializeToCodedStream(&coded);
  }
  return ChainHash("", bytes);
}

void MarkReplayed(google::protobuf::Message& response) {
  const auto* field = response.GetDescriptor()->FindFieldByName("replayed");
  if (field != nullptr) response.GetReflection()->SetBool(&response, field, true);
}

// A group prepared by the writer thread, waiting for the committer.
struct Prepared {
  std::uint64_t seq = 0;
  std::vector<Job*> jobs;
  std::unique_ptr<Group> group;
  Position last_position = 0;
};

class RocksLedger final : public Ledger {
 public:
  explicit RocksLedger(LedgerOptions options)
      : options_(std::move(options)), state_(*options_.hot_from) {}

  ~RocksLedger() override {
    {
      std::lock_guard lock(queue_mu_);
      stopping_ = true;
    }
    queue_cv_.notify_all();
    if (writer_.joinable()) writer_.join();
    if (committer_.joinable()) committer_.join();
    // [storage] Clean shutdown: the head record names the last commit exactly.
    if (head_recorder_) {
      if (auto s = head_recorder_->Stop(); !s.ok()) {
        SPDLOG_LOGGER_WARN(&Log(), "head record not written at shutdown: {}", s.ToString());
      }
    }
    if (db_) {
      for (auto* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
      db_->Close();
    }
  }

  absl::Status Open() {
    rocksdb::Options db_options;
    db_options.create_if_missing = true;
    db_options.create_missing_column_families = true;
    db_options.max_background_jobs = 2;
    db_options.bytes_per_sync = 1 << 20;
    db_options.max_total_wal_size = 256u << 20;
    // One thread writes, so the concurrent skiplist insert buys nothing, and
    // the sequential insert reuses its last splice: marks arrive in runs of
    // neighbouring keys, which makes most inserts a short step.
    db_options.allow_concurrent_memtable_write = false;
    db_options.enable_write_thread_adaptive_yield = false;
    // [storage] Corruption and full disks (issue 10).
    // WAL recovery may drop only an incomplete record at the very end of a
    // WAL: what a crash or a failed write leaves mid-append. An acknowledged
    // record was written whole and synced before its answer, and every later
    // append lands after it, so a crash cannot cut it. A checksum failure
    // anywhere fails the open (DATA_LOSS); kPointInTimeRecovery, the default,
    // silently stopped there and dropped every record after it. A truncated
    // WAL looks like a torn tail to RocksDB: the head record catches that.
    db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
    // RocksDB's LOG file on the data disk aborted the process when it filled.
    db_options.info_log = NewSpdlogInfoLog();
    // fallocate reserved up to ~70 MB ahead for each WAL and SST (1.1 x the
    // write buffer), which made a small disk look full long before it was.
    db_options.allow_fallocate = false;
    // Created here, not by RocksDB, so that its file tracker does not log an
    // error about a missing directory on a new ledger's first start.
    std::error_code dir_error;
    if (!options_.read_only) std::filesystem::create_directories(options_.data_dir, dir_error);
    if (options_.power_loss != nullptr) db_options.env = fault::PowerLossEnv(*options_.power_loss);

    rocksdb::ColumnFamilyOptions log_options;
    log_options.write_buffer_size = 64u << 20;
    log_options.compression = rocksdb::kLZ4Compression;

    rocksdb::BlockBasedTableOptions point_table;
    point_table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    rocksdb::ColumnFamilyOptions index_options;
    index_options.write_buffer_size = 32u << 20;
    index_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(point_table));
    if (options_.memtable_bytes != 0) {
      log_options.write_buffer_size = index_options.write_buffer_size = options_.memtable_bytes;
      log_options.level0_file_num_compaction_trigger = 2;
      index_options.level0_file_num_compaction_trigger = 2;
    }

    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
        {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
        {"events", log_options},
        {"marks", index_options},
        {"requests", index_options},
        {"checkpoints", rocksdb::ColumnFamilyOptions()},
        {"read_models", index_options},  // read models' keyed state (read_model_store.cc)
    };
    rocksdb::DB* db = nullptr;
    if (auto s = OpenLedgerDb(db_options, options_.data_dir, options_.read_only, descriptors,
                              &handles_, &db);
        !s.ok()) {
      return ExplainOpenFailure(options_.data_dir, s);  // [storage]
    }
    db_.reset(db);
    cf_ = {handles_[1], handles_[2], handles_[3], handles_[4]};
    read_models_cf_ = handles_[5];
    // Read-only: no fold and no writer; the head is the last stored key.
    if (options_.read_only) {
      auto last = LastStoredPosition(*db_, cf_.events);
      if (!last.ok()) return last.status();
      committed_.store(*last, std::memory_order_release);
      commit_signal_.Committed(*last);
      return absl::OkStatus();
    }
    if (auto s = Replay(); !s.ok()) return s;
    if (auto s = CheckHeadRecord(); !s.ok()) return s;
    writer_ = std::thread([this] { WriterLoop(); });
    committer_ = std::thread([this] { CommitLoop(); });
    return absl::OkStatus();
  }

  absl::StatusOr<v1::RecordMarksResponse> RecordMarks(
      const Principal& actor, const v1::RecordMarksRequest& request) override {
    return Run<v1::RecordMarksResponse>(
        Method::kRecordMarks, actor, request, request.school_id(), request.request_id(),
        static_cast<std::size_t>(request.marks_size()), PrepareRecordMarks);
  }
  void RecordMarksAsync(
      Principal actor, v1::RecordMarksRequest request,
      std::function<void(absl::StatusOr<v1::RecordMarksResponse>)> done) override {
    auto* async = new AsyncMarks{std::move(actor), std::move(request), {}, std::move(done), {}};
    Job& job = async->job;
    job.method = Method::kRecordMarks;
    job.actor = &async->actor;
    job.request = &async->request;
    job.response = &async->response;
    job.school_id = async->request.school_id();
    job.request_id = async->request.request_id();
    job.weight = static_cast<std::size_t>(async->request.marks_size());
    job.prepare = [async](CommandEnv& env) {
      return PrepareRecordMarks(env, async->request, async->response);
    };
    if (!job.request_id.empty())
      job.fingerprint = Fingerprint(job.method, async->actor, async->request);
    job.on_done = [async](Job& finished) {
      if (finished.status.ok()) {
        async->done(std::move(async->response));
      } else {
        async->done(finished.status);
      }
      delete async;
    };
    absl::Status refused = options_.read_only
                               ? ReadOnlyError()
                               : CheckSubmission(async->actor, job.school_id, job.request_id);
    {
      std::lock_guard lock(queue_mu_);
      if (refused.ok() && stopping_) refused = StoppingError();
      if (refused.ok()) {
        queue_.push_back(&job);
        queue_cv_.notify_all();
        return;
      }
    }
    job.status = refused;
    auto on_done = std::move(job.on_done);
    on_done(job);
  }

  absl::StatusOr<v1::AmendMarkResponse> AmendMark(const Principal& actor,
                                                  const v1::AmendMarkRequest& request) override {
    return Run<v1::AmendMarkResponse>(Method::kAmendMark, actor, request, request.school_id(),
                                      request.request_id(), 1, PrepareAmendMark);
  }
  absl::StatusOr<v1::WriteResponse> RecordLetter(const Principal& actor,
                                                 const v1::RecordLetterRequest& request) override {
    return Run<v1::WriteResponse>(Method::kRecordLetter, actor, request, request.school_id(),
                                  request.request_id(), 1, PrepareRecordLetter);
  }
  absl::StatusOr<v1::WriteResponse> EnrolPupil(const Principal& actor,
                                               const v1::EnrolPupilRequest& request) override {
    return Run<v1::WriteResponse>(Method::kEnrolPupil, actor, request, request.school_id(),
                                  request.request_id(), 1, PrepareEnrolPupil);
  }
  absl::StatusOr<v1::WriteResponse> UpdatePupil(const Principal& actor,
                                                const v1::UpdatePupilRequest& request) override {
    return Run<v1::WriteResponse>(Method::kUpdatePupil, actor, request, request.school_id(),
                                  request.request_id(), 1, PrepareUpdatePupil);
  }
  absl::StatusOr<v1::WriteResponse> RemoveFromRoll(
      const Principal& actor, const v1::RemoveFromRollRequest& request) override {
    return Run<v1::WriteResponse>(Method::kRemoveFromRoll, actor, request, request.school_id(),
                                  request.request_id(), 1, PrepareRemoveFromRoll);
  }
  absl::StatusOr<v1::WriteResponse> SetSchoolCalendar(
      const Principal& actor, const v1::SetSchoolCalendarRequest& request) override {
    return Run<v1::WriteResponse>(Method::kSetSchoolCalendar, actor, request, request.school_id(),
                                  request.request_id(), 1, PrepareSetSchoolCalendar);
  }
  absl::StatusOr<v1::WriteResponse> SetSchoolSettings(
      const Principal& actor, const v1::SetSchoolSettingsRequest& request) override {
    return Run<v1::WriteResponse>(Method::kSetSchoolSettings, actor, request, request.school_id(),
                                  request.request_id(), 1, PrepareSetSchoolSettings);
  }

  Position LastPosition() const override { return committed_.load(std::memory_order_acquire); }

  // --- Reading and following the log (tail.cc, commit_signal.h) ---
  // No snapshot: events are immutable and reads never go past the committed
  // head, so each chunk's short-lived iterator sees the same bytes a
  // snapshot would, and a slow reader pins no memtable.
  absl::Status ForEachEvent(
      Position from, const std::function<bool(const v1::EventEnvelope&)>& visit) const override {
    const Position last = LastPosition();
    if (from == 0) from = 1;
    v1::EventEnvelope envelope;
    while (from <= last) {
      const Position to = std::min(last, from + kEventsPerIterator - 1);
      absl::Status status =
          Scan(nullptr, from, to,
               [&](Position, std::string_view hash, std::string_view prev_hash,
                   std::string_view body) -> absl::Status {
                 envelope.Clear();
                 if (!envelope.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
                   return absl::DataLossError("undecodable event");
                 }
                 envelope.set_hash(hash.data(), hash.size());
                 envelope.set_prev_hash(prev_hash.data(), prev_hash.size());
                 return visit(envelope) ? absl::OkStatus() : absl::CancelledError();
               });
      if (absl::IsCancelled(status)) return absl::OkStatus();
      if (!status.ok()) return status;
      from = to + 1;
    }
    return absl::OkStatus();
  }

  absl::Status ReadChunk(Position from, ChunkLimits limits, EventChunk& chunk) const override {
    chunk.events.Clear();
    chunk.ends_commit = false;
    const Position head = LastPosition();
    if (from == 0) from = 1;
    if (from > head) return absl::OkStatus();
    const Position to =
        std::min<Position>(head, from + std::max<std::size_t>(limits.max_events, 1) - 1);
    std::size_t bytes = 0;
    absl::Status status =
        Scan(nullptr, from, to,
             [&](Position, std::string_view hash, std::string_view prev_hash,
                 std::string_view body) -> absl::Status {
               if (!chunk.events.empty() && bytes + body.size() > limits.max_bytes) {
                 return absl::CancelledError();
               }
               bytes += body.size();
               v1::EventEnvelope* envelope = chunk.events.Add();
               if (!envelope->ParseFromArray(body.data(), static_cast<int>(body.size()))) {
                 return absl::DataLossError("undecodable event");
               }
               envelope->set_hash(hash.data(), hash.size());
               envelope->set_prev_hash(prev_hash.data(), prev_hash.size());
               return absl::OkStatus();
             });
    if (!status.ok() && !absl::IsCancelled(status)) {
      chunk.events.Clear();
      return status;
    }
    // End the chunk where a commit ends if one is known inside it, so that
    // readers who publish at chunk ends never show half of a request.
    const Position last = chunk.events.rbegin()->position();
    if (last == head) {
      chunk.ends_commit = true;
    } else if (const Position cut = commit_signal_.LastKnownEndIn(from, last); cut != 0) {
      while (chunk.events.rbegin()->position() > cut) chunk.events.RemoveLast();
      chunk.ends_commit = true;
    }
    return absl::OkStatus();
  }

  Position WaitForCommit(Position after,
                         std::chrono::steady_clock::time_point deadline) const override {
    commit_signal_.Wait(deadline, [&] { return LastPosition() > after; });
    return LastPosition();
  }
  // --- end of reading and following the log ---

  absl::Status VerifyChain(Position from, Position to) const override {
    const Position last = LastPosition();
    if (from == 0) from = 1;
    if (to == 0 || to > last) to = last;
    if (from > to) return absl::OkStatus();
    const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
    absl::Status status =
        Scan(snapshot, from, to,
             [&](Position position, std::string_view hash, std::string_view prev_hash,
                 std::string_view body) -> absl::Status {
               if (ChainHash(prev_hash, body) != hash) {
                 return absl::DataLossError(
                     absl::StrCat("position ", position, ": hash does not verify"));
               }
               v1::EventEnvelope envelope;
               if (!envelope.ParseFromArray(body.data(), static_cast<int>(body.size())) ||
                   envelope.position() != position) {
                 return absl::DataLossError(
                     absl::StrCat("position ", position, ": stored event does not match its key"));
               }
               return absl::OkStatus();
             });
    db_->ReleaseSnapshot(snapshot);
    return status;
  }

  absl::Status SaveCheckpoint(const std::string& name, const Checkpoint& checkpoint) override {
    if (options_.read_only) return ReadOnlyError();
    std::string value;
    keys::PutFixed64(value, checkpoint.position);
    value.append(checkpoint.state);
    return FromRocks(db_->Put(rocksdb::WriteOptions(), cf_.checkpoints, name, value),
                     absl::StrCat("save checkpoint ", name));
  }

  absl::StatusOr<Checkpoint> LoadCheckpoint(const std::string& name) const override {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_.checkpoints, name, &value);
    if (s.IsNotFound()) return absl::NotFoundError(absl::StrCat("no checkpoint ", name));
    if (auto st = FromRocks(s, absl::StrCat("load checkpoint ", name)); !st.ok()) return st;
    if (value.size() < 8)
      return absl::DataLossError(absl::StrCat("checkpoint ", name, " is short"));
    return Checkpoint{keys::GetFixed64(value), value.substr(8)};
  }

  absl::StatusOr<IndexVerification> VerifyIndexes() const override {
    return VerifyLedgerIndexes(*db_, cf_);
  }

  absl::StatusOr<BackupInfo> CreateBackup(const std::string& backup_dir) override {
    if (options_.read_only) return ReadOnlyError();
    return BackupLedgerDb(*db_, LastPosition(), backup_dir);
  }

  absl::StatusOr<std::unique_ptr<ReadModelStore>> OpenReadModelStore(
      const std::string& name) override {
    return NewRocksReadModelStore(db_.get(), read_models_cf_, cf_.checkpoints, name);
  }

 private:
  using ScanFn = std::function<absl::Status(Position, std::string_view hash,
                                            std::string_view prev_hash, std::string_view body)>;

  // Visits stored events [from, to] in order, checking there are no gaps.
  absl::Status Scan(const rocksdb::Snapshot* snapshot, Position from, Position to,
                    const ScanFn& fn) const {
    rocksdb::ReadOptions read;
    read.snapshot = snapshot;
    std::string prev_hash;
    if (from > 1) {
      std::string value;
      if (auto s = FromRocks(db_->Get(read, cf_.events, keys::Event(from - 1), &value),
                             absl::StrCat("read position ", from - 1));
          !s.ok()) {
        return absl::IsNotFound(s) ? absl::DataLossError(absl::StrCat("position ", from - 1,
                                                                      " is missing from the log"))
                                   : s;
      }
      if (value.size() < kHashSize) {
        return absl::DataLossError(absl::StrCat("position ", from - 1, ": truncated"));
      }
      prev_hash = value.substr(0, kHashSize);
    }
    const std::string upper = keys::Event(to + 1);
    rocksdb::Slice upper_slice(upper);
    read.iterate_upper_bound = &upper_slice;
    // Read ahead about what the range holds (events are ~150-300 bytes), up
    // to 2 MB: chunked readers open one iterator per 1,000 events.
    read.readahead_size = static_cast<std::size_t>(
        std::min<Position>(2u << 20, std::max<Position>(64u << 10, (to - from + 1) * 512)));
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, cf_.events));
    Position expected = from;
    for (it->Seek(keys::Event(from)); it->Valid(); it->Next()) {
      const Position position = keys::GetFixed64(it->key().ToStringView());
      if (position != expected) {
        return absl::DataLossError(absl::StrCat(
            "position ", expected, " is missing from the log (next is ", position, ")"));
      }
      const std::string_view value = it->value().ToStringView();
      if (value.size() < kHashSize) {
        return absl::DataLossError(absl::StrCat("position ", position, ": truncated"));
      }
      const std::string_view hash = value.substr(0, kHashSize);
      if (auto s = fn(position, hash, prev_hash, value.substr(kHashSize)); !s.ok()) {
        if (absl::IsDataLoss(s) && s.message().find("position") == std::string_view::npos) {
          return absl::DataLossError(absl::StrCat("position ", position, ": ", s.message()));
        }
        return s;
      }
      prev_hash.assign(hash.data(), hash.size());
      ++expected;
    }
    if (auto s = FromRocks(it->status(), "scan events"); !s.ok()) return s;
    if (expected != to + 1) {
      return absl::DataLossError(absl::StrCat("position ", expected, " is missing from the log"));
    }
    return absl::OkStatus();
  }

  // Rebuilds the hot state from the log.
  absl::Status Replay() {
    rocksdb::ReadOptions read;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, cf_.events));
    v1::EventEnvelope envelope;
    Position expected = 1;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const Position position = keys::GetFixed64(it->key().ToStringView());
      const std::string_view value = it->value().ToStringView();
      if (position != expected || value.size() < kHashSize ||
          !envelope.ParseFromArray(value.data() + kHashSize,
                                   static_cast<int>(value.size() - kHashSize)) ||
          envelope.position() != position) {
        return absl::DataLossError(
            absl::StrCat("position ", expected, ": missing or undecodable at start-up"));
      }
      state_.Apply(envelope);
      prepared_hash_.assign(value.data(), kHashSize);
      ++expected;
    }
    if (auto s = FromRocks(it->status(), "replay"); !s.ok()) return s;
    committed_.store(expected - 1, std::memory_order_release);
    SPDLOG_LOGGER_INFO(&Log(), "ledger at {}: {} events, {} hot marks", options_.data_dir,
                       expected - 1, state_.hot_marks());
    return absl::OkStatus();
  }

  // [storage] begin: head record and recovery from a full disk (issue 10).

  // Start-up cross-check: the recovered log must contain the head that the
  // last run recorded (head_record.h); from here on, keep recording it.
  absl::Status CheckHeadRecord() {
    const std::string path = HeadRecordPath(options_.data_dir);
    absl::StatusOr<std::optional<LedgerHead>> recorded = ReadHeadRecord(path);
    if (!recorded.ok()) return recorded.status();
    const Position last = committed_.load(std::memory_order_acquire);
    if (*recorded) {
      const Position at = (*recorded)->position;
      std::string hash;
      if (at == last) {
        hash = prepared_hash_;
      } else if (at > 0 && at < last) {
        std::string value;
        if (auto s =
                FromRocks(db_->Get(rocksdb::ReadOptions(), cf_.events, keys::Event(at), &value),
                          absl::StrCat("read position ", at));
            !s.ok()) {
          return s;
        }
        hash = value.substr(0, kHashSize);
      }
      if (auto s = CheckRecoveredHead(options_.data_dir, **recorded, last, hash); !s.ok()) {
        SPDLOG_LOGGER_ERROR(&Log(), "{}", s.ToString());
        return s;
      }
    }
    head_recorder_ = std::make_unique<HeadRecorder>(path, LedgerHead{last, prepared_hash_});
    return absl::OkStatus();
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
  void RecoverAfterFailure() {
    {
      std::lock_guard lock(failure_mu_);
      if (!absl::IsResourceExhausted(failure_)) return;
    }
    {
      std::unique_lock lock(commit_mu_);
      commit_cv_.wait(
          lock, [&] { return finished_seq_.load(std::memory_order_acquire) == prepared_seq_; });
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
  // [storage] end

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
  absl::Status BrokenError() {
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

  static absl::Status ReadOnlyError() {
    return absl::FailedPreconditionError("the ledger was opened read-only");
  }

  static absl::Status StoppingError() {
    return absl::UnavailableError("the ledger is shutting down");
  }

  // Checks that come before the request log is consulted, so that an
  // unauthenticated caller cannot read a stored response by replaying an id.
  static absl::Status CheckSubmission(const Principal& actor, const std::string& school_id,
                                      const std::string& request_id) {
    if (auto s = CheckActor(actor); !s.ok()) return s;
    if (request_id.empty()) return absl::OkStatus();
    // Limits count characters, and values are quoted by Quoted, so that a
    // message never splits a multi-byte character (issue 10, finding 5).
    if (const std::size_t chars = Utf8Length(request_id); chars > 128) {
      return absl::InvalidArgumentError(
          absl::StrCat("request_id: ", chars, " characters is longer than 128"));
    }
    if (!IsValidUtf8(request_id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("request_id: ", Quoted(request_id), " is not valid UTF-8"));
    }
    if (school_id.empty() || Utf8Length(school_id) > kMaxIdLength) {
      return absl::InvalidArgumentError(absl::StrCat(
          "school_id: ", Quoted(school_id), " must be 1 to ", kMaxIdLength, " characters"));
    }
    return absl::OkStatus();
  }

  void Submit(Job& job) {
    std::unique_lock lock(queue_mu_);
    if (stopping_) {
      job.status = StoppingError();
      return;
    }
    queue_.push_back(&job);
    queue_cv_.notify_all();
    done_cv_.wait(lock, [&] { return job.done; });
  }

  absl::StatusOr<std::string> CurrentCode(Group& group, const std::string& school_id,
                                          const std::string& pupil_id, const PupilState& pupil,
                                          Day day, v1::Session session) {
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

  // Answers a retry from a stored request record (fingerprint, method,
  // response): the original response, or ALREADY_EXISTS if the id was used
  // for a different request.
  static void AnswerFromRecord(Job& job, std::string_view record) {
    if (record.size() < kHashSize + 1 || record.compare(0, kHashSize, job.fingerprint) != 0 ||
        record[kHashSize] != static_cast<char>(job.method)) {
      job.status = absl::AlreadyExistsError(absl::StrCat(
          "request_id: \"", job.request_id, "\" was already used for a different request"));
      return;
    }
    if (!job.response->ParseFromArray(record.data() + kHashSize + 1,
                                      static_cast<int>(record.size() - kHashSize - 1))) {
      job.status = absl::DataLossError("stored response for request id is undecodable");
      return;
    }
    MarkReplayed(*job.response);
  }

  // Looks the request id up among groups in flight, then in RocksDB; true if
  // the job was answered.
  bool AnswerFromRequestLog(Job& job, const std::string& key) {
    if (auto it = inflight_requests_.find(key); it != inflight_requests_.end()) {
      AnswerFromRecord(job, it->second.value);
      return true;
    }
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_.requests, key, &value);
    if (s.IsNotFound()) return false;
    if (!s.ok()) {
      job.status = FromRocks(s, "read request id");
      return true;
    }
    AnswerFromRecord(job, value);
    return true;
  }

  // Wakes the callers of a finished group: synchronous callers see `done`;
  // asynchronous jobs get their callback and are deleted.
  void Complete(std::vector<Job*>& jobs) {
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

  // Drops in-flight records of groups the committer has finished with.
  void PruneInFlight() {
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
  void WriterLoop() {
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

  void PrepareGroup(Prepared& prepared) {
    if (broken_.load()) RecoverAfterFailure();  // [storage]
    prepared.seq = ++prepared_seq_;
    const std::int64_t now = options_.clock.NowUs();
    prepared.group = std::make_unique<Group>(state_, cf_, prepared_hash_, now);
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
      job->status = job->prepare(env);
      if (!job->status.ok() || request_key.empty()) continue;
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
    prepared.last_position = state_.last_position();
  }

  // Stage 2: write and sync each prepared group in order, then answer it.
  void CommitLoop() {
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
      } else if (!group.empty()) {
        rocksdb::WriteOptions write;
        write.sync = options_.sync;
        s = FromRocks(db_->Write(write, &group.batch()), "write events");
        if (s.ok()) {
          committed_.store(prepared->last_position, std::memory_order_release);
          head_recorder_->Advance(prepared->last_position, group.prev_hash());  // [storage]
          commit_signal_.Committed(prepared->last_position);  // wakes followers of the log
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

  LedgerOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  ColumnFamilies cf_;
  rocksdb::ColumnFamilyHandle* read_models_cf_ = nullptr;

  // Owned by the writer thread (and by Open before it starts): the state
  // and chain head including every prepared group, durable or not yet.
  HotState state_;
  std::string prepared_hash_;
  std::uint64_t prepared_seq_ = 0;
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

}  // namespace

absl::StatusOr<std::unique_ptr<Ledger>> Ledger::Open(LedgerOptions options) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("data_dir: must not be empty");
  // Validation judges dates by the school's local date: without the zone
  // it would silently use UTC.
  if (auto s = CheckSchoolTimeZone(); !s.ok()) return s;
  if (!options.hot_from) {
    options.hot_from = AcademicYearStart(AcademicYearOf(options.clock.Today()) - 1);
  }
  auto ledger = std::make_unique<RocksLedger>(std::move(options));
  if (auto s = ledger->Open(); !s.ok()) return s;
  return std::unique_ptr<Ledger>(std::move(ledger));
}

}  // namespace attendance::ledger
