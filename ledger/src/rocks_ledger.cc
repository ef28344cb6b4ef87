// The RocksDB-backed Ledger (rocks_ledger.h): commands handed to the
// writer thread, checkpoints, backups and read-model stores.
#include "rocks_ledger.h"

#include "absl/strings/str_cat.h"
#include "backup_impl.h"
#include "keys.h"
#include "logger.h"
#include "read_model_store.h"
#include "rocks_status.h"

namespace attendance::ledger {

RocksLedger::~RocksLedger() {
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

absl::StatusOr<v1::RecordMarksResponse> RocksLedger::RecordMarks(
    const Principal& actor, const v1::RecordMarksRequest& request) {
  return Run<v1::RecordMarksResponse>(
      Method::kRecordMarks, actor, request, request.school_id(), request.request_id(),
      static_cast<std::size_t>(request.marks_size()), PrepareRecordMarks);
}
void RocksLedger::RecordMarksAsync(
    Principal actor, v1::RecordMarksRequest request,
    std::function<void(absl::StatusOr<v1::RecordMarksResponse>)> done) {
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

namespace {

// The events a command may append, for sizing commit groups.
template <typename Request>
std::size_t CommandWeight(const Request&) {
  return 1;
}
std::size_t CommandWeight(const v1::ImportHistoryRequest& request) {
  std::size_t events = 0;
  for (const v1::ImportedMark& mark : request.marks()) {
    events += 1 + static_cast<std::size_t>(mark.amendments_size());
  }
  return events;
}

}  // namespace

#define ATTENDANCE_DEFINE(Name, Request, Response, tag, access)                            \
  absl::StatusOr<v1::Response> RocksLedger::Name(const Principal& actor,                   \
                                                 const v1::Request& request) {             \
    return Run<v1::Response>(Method::k##Name, actor, request, request.school_id(),         \
                             request.request_id(), CommandWeight(request), Prepare##Name); \
  }
ATTENDANCE_LEDGER_COMMANDS(ATTENDANCE_DEFINE)
#undef ATTENDANCE_DEFINE

absl::Status RocksLedger::SaveCheckpoint(const std::string& name, const Checkpoint& checkpoint) {
  if (options_.read_only) return ReadOnlyError();
  std::string value;
  keys::PutFixed64(value, checkpoint.position);
  value.append(checkpoint.state);
  return FromRocks(db_->Put(rocksdb::WriteOptions(), cf_.checkpoints, name, value),
                   absl::StrCat("save checkpoint ", name));
}

absl::StatusOr<Ledger::Checkpoint> RocksLedger::LoadCheckpoint(const std::string& name) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_.checkpoints, name, &value);
  if (s.IsNotFound()) return absl::NotFoundError(absl::StrCat("no checkpoint ", name));
  if (auto st = FromRocks(s, absl::StrCat("load checkpoint ", name)); !st.ok()) return st;
  if (value.size() < 8) return absl::DataLossError(absl::StrCat("checkpoint ", name, " is short"));
  return Checkpoint{keys::GetFixed64(value), value.substr(8)};
}

absl::StatusOr<BackupInfo> RocksLedger::CreateBackup(const std::string& backup_dir) {
  if (options_.read_only) return ReadOnlyError();
  return BackupLedgerDb(*db_, LastPosition(), backup_dir);
}

absl::StatusOr<std::unique_ptr<ReadModelStore>> RocksLedger::OpenReadModelStore(
    const std::string& name) {
  return NewRocksReadModelStore(db_.get(), read_models_cf_, cf_.checkpoints, name);
}

}  // namespace attendance::ledger
