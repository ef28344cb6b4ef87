#include "fault/power_loss_fs.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace attendance::ledger::fault {
namespace {

using rocksdb::IOStatus;

std::string Normal(const std::string& path) {
  std::string normal = std::filesystem::path(path).lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

std::string Parent(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string BaseName(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// RocksDB names its pool threads "rocksdb:high" (flushes), "rocksdb:low"
// and "rocksdb:bottom" (compactions).
Activity CurrentActivity() {
  char name[32] = {};
  if (pthread_getname_np(pthread_self(), name, sizeof(name)) != 0) return Activity::kForeground;
  const std::string_view view(name);
  if (view.starts_with("rocksdb:high")) return Activity::kFlush;
  if (view.starts_with("rocksdb:low") || view.starts_with("rocksdb:bottom")) {
    return Activity::kCompaction;
  }
  return Activity::kForeground;
}

const char* ActivityName(Activity activity) {
  switch (activity) {
    case Activity::kAny:
      return "any";
    case Activity::kForeground:
      return "foreground";
    case Activity::kFlush:
      return "flush";
    case Activity::kCompaction:
      return "compaction";
  }
  return "?";
}

// A file open for writing: every change goes through the file system's
// lock and updates the file's FileState.
class PowerLossWritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  PowerLossWritableFile(PowerLossFs& fs, std::string path, std::shared_ptr<FileState> state,
                        std::unique_ptr<rocksdb::FSWritableFile> target)
      : FSWritableFileOwnerWrapper(std::move(target)),
        fs_(fs),
        path_(std::move(path)),
        state_(std::move(state)) {}

  IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                  rocksdb::IODebugContext* dbg) override {
    std::lock_guard lock(fs_.mu());
    if (IOStatus s = fs_.Begin("Append", path_); !s.ok()) return s;
    IOStatus s = target()->Append(data, options, dbg);
    if (s.ok()) state_->size += data.size();
    return s;
  }
  IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                  const rocksdb::DataVerificationInfo& /*verification_info*/,
                  rocksdb::IODebugContext* dbg) override {
    return Append(data, options, dbg);
  }
  IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                            const rocksdb::IOOptions& options,
                            rocksdb::IODebugContext* dbg) override {
    std::lock_guard lock(fs_.mu());
    if (IOStatus s = fs_.Begin("PositionedAppend", path_); !s.ok()) return s;
    IOStatus s = target()->PositionedAppend(data, offset, options, dbg);
    if (s.ok()) state_->size = std::max<std::uint64_t>(state_->size, offset + data.size());
    return s;
  }
  IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                            const rocksdb::IOOptions& options,
                            const rocksdb::DataVerificationInfo& /*verification_info*/,
                            rocksdb::IODebugContext* dbg) override {
    return PositionedAppend(data, offset, options, dbg);
  }
  IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options,
                    rocksdb::IODebugContext* dbg) override {
    std::lock_guard lock(fs_.mu());
    if (IOStatus s = fs_.Begin("Truncate", path_); !s.ok()) return s;
    IOStatus s = target()->Truncate(size, options, dbg);
    if (s.ok()) {
      state_->size = size;
      state_->synced = std::min(state_->synced, size);
    }
    return s;
  }
  IOStatus Flush(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    std::lock_guard lock(fs_.mu());
    if (IOStatus s = fs_.CheckPower(); !s.ok()) return s;
    return target()->Flush(options, dbg);
  }
  // Closing a file makes nothing durable.
  IOStatus Close(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    std::lock_guard lock(fs_.mu());
    if (IOStatus s = fs_.Begin("Close", path_); !s.ok()) return s;
    return target()->Close(options, dbg);
  }
  IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    return SyncAll("Sync", options, dbg);
  }
  IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    return SyncAll("Fsync", options, dbg);
  }
  // sync_file_range(2) writes pages out but promises nothing about
  // metadata or the disk's cache, so it makes nothing durable here.
  IOStatus RangeSync(uint64_t /*offset*/, uint64_t /*nbytes*/,
                     const rocksdb::IOOptions& /*options*/,
                     rocksdb::IODebugContext* /*dbg*/) override {
    std::lock_guard lock(fs_.mu());
    return fs_.Begin("RangeSync", path_);
  }
  bool IsSyncThreadSafe() const override { return true; }

 private:
  // The model decides what is durable, so the real disk is not synced.
  IOStatus SyncAll(const char* op, const rocksdb::IOOptions& options,
                   rocksdb::IODebugContext* dbg) {
    std::lock_guard lock(fs_.mu());
    if (IOStatus s = fs_.Begin(op, path_); !s.ok()) return s;
    IOStatus s = target()->Flush(options, dbg);
    if (s.ok()) state_->synced = state_->size;
    return s;
  }

  PowerLossFs& fs_;
  const std::string path_;  // the name it was opened under, for messages
  std::shared_ptr<FileState> state_;
};

class PowerLossDirectory final : public rocksdb::FSDirectory {
 public:
  PowerLossDirectory(PowerLossFs& fs, std::string path, std::unique_ptr<rocksdb::FSDirectory> t)
      : fs_(fs), path_(std::move(path)), target_(std::move(t)) {}

  IOStatus Fsync(const rocksdb::IOOptions& /*options*/, rocksdb::IODebugContext* /*dbg*/) override {
    std::lock_guard lock(fs_.mu());
    if (IOStatus s = fs_.Begin("FsyncDir", path_); !s.ok()) return s;
    fs_.DirectorySynced(path_);
    return IOStatus::OK();
  }
  IOStatus FsyncWithDirOptions(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions& /*dir_fsync_options*/) override {
    return Fsync(options, dbg);
  }
  IOStatus Close(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    return target_->Close(options, dbg);
  }
  size_t GetUniqueId(char* id, size_t max_size) const override {
    return target_->GetUniqueId(id, max_size);
  }

 private:
  PowerLossFs& fs_;
  const std::string path_;
  std::unique_ptr<rocksdb::FSDirectory> target_;
};

}  // namespace

// RocksDB waits a second after a failed background job before the next
// one; once the power is gone no job can succeed, and the wait only delays
// closing the dead ledger.
class PowerLossClock final : public rocksdb::SystemClockWrapper {
 public:
  PowerLossClock(const std::shared_ptr<rocksdb::SystemClock>& target, const PowerLossFs& fs)
      : SystemClockWrapper(target), fs_(fs) {}
  const char* Name() const override { return "PowerLossClock"; }
  void SleepForMicroseconds(int micros) override {
    if (!fs_.power_lost()) SystemClockWrapper::SleepForMicroseconds(micros);
  }

 private:
  const PowerLossFs& fs_;
};

std::unique_ptr<rocksdb::Env> NewPowerLossEnv(const std::shared_ptr<PowerLossFs>& fs) {
  class Env final : public rocksdb::EnvWrapper {
   public:
    Env(std::unique_ptr<rocksdb::Env> composite, const PowerLossFs& fs)
        : EnvWrapper(std::move(composite)) {
      system_clock_ = std::make_shared<PowerLossClock>(system_clock_, fs);
    }
    const char* Name() const override { return "PowerLossEnv"; }
    void SleepForMicroseconds(int micros) override { system_clock_->SleepForMicroseconds(micros); }
  };
  return std::make_unique<Env>(rocksdb::NewCompositeEnv(fs), *fs);
}

PowerLossFs::PowerLossFs(std::shared_ptr<rocksdb::FileSystem> base)
    : FileSystemWrapper(std::move(base)) {}

void PowerLossFs::Arm(std::uint64_t nth, Activity activity) {
  std::lock_guard lock(mu_);
  armed_ = nth > 0;
  armed_activity_ = activity;
  armed_at_ = operations_[static_cast<std::size_t>(activity)] + nth;
}

void PowerLossFs::Crash() {
  std::lock_guard lock(mu_);
  if (!lost_) LosePowerLocked("Crash()");
}

bool PowerLossFs::power_lost() const {
  std::lock_guard lock(mu_);
  return lost_;
}

std::string PowerLossFs::crash_point() const {
  std::lock_guard lock(mu_);
  return crash_point_;
}

std::uint64_t PowerLossFs::operations(Activity activity) const {
  std::lock_guard lock(mu_);
  return operations_[static_cast<std::size_t>(activity)];
}

absl::Status PowerLossFs::Reset() {
  std::lock_guard lock(mu_);
  // Whatever is pending now stays as it is on disk: deletions become real.
  for (const DirOp& op : pending_) ForgetTrashLocked(op);
  pending_.clear();
  files_.clear();
  for (const std::string& dir : trash_dirs_) target()->DeleteDir(dir, IOOptions(), nullptr);
  trash_dirs_.clear();
  lost_ = false;
  armed_ = false;
  power_goes_at_end_.clear();
  crash_point_.clear();
  operations_ = {};
  absl::Status status = std::move(revert_status_);
  revert_status_ = absl::OkStatus();
  return status;
}

IOStatus PowerLossFs::CheckPowerLocked() const {
  if (lost_) return IOStatus::IOError("simulated power loss");
  return IOStatus::OK();
}

IOStatus PowerLossFs::CheckPower() const { return CheckPowerLocked(); }

IOStatus PowerLossFs::Begin(const char* op, const std::string& path, bool power_goes_after) {
  if (IOStatus s = CheckPowerLocked(); !s.ok()) return s;
  const Activity activity = CurrentActivity();
  const std::uint64_t nth = ++operations_[static_cast<std::size_t>(activity)];
  const std::uint64_t any = ++operations_[static_cast<std::size_t>(Activity::kAny)];
  const std::uint64_t counted =
      armed_activity_ == Activity::kAny ? any : (armed_activity_ == activity ? nth : 0);
  if (armed_ && counted == armed_at_) {
    std::string point = absl::StrCat(ActivityName(activity), ": ", power_goes_after ? "after " : "",
                                     op, " ", BaseName(path), " (op ", any, ")");
    if (power_goes_after) {
      armed_ = false;
      power_goes_at_end_ = std::move(point);
      return IOStatus::OK();
    }
    LosePowerLocked(std::move(point));
    return CheckPowerLocked();
  }
  return IOStatus::OK();
}

void PowerLossFs::EndLocked() {
  if (power_goes_at_end_.empty()) return;
  LosePowerLocked(std::move(power_goes_at_end_));
  power_goes_at_end_.clear();
}

void PowerLossFs::LosePowerLocked(std::string point) {
  lost_ = true;
  armed_ = false;
  crash_point_ = std::move(point);
  RevertLocked();
}

// Puts the disk back to what the model says survives: directory changes
// undone newest first (so names are where they were), then every written
// file cut to its synced length.
void PowerLossFs::RevertLocked() {
  auto check = [&](const IOStatus& s, const std::string& what) {
    if (!s.ok() && revert_status_.ok()) {
      revert_status_ = absl::InternalError(absl::StrCat("power loss: ", what, ": ", s.ToString()));
    }
  };
  const IOOptions io;
  for (auto op = pending_.rbegin(); op != pending_.rend(); ++op) {
    switch (op->kind) {
      case DirOp::kCreate:
        check(target()->DeleteFile(op->path, io, nullptr), "remove " + op->path);
        files_.erase(op->path);
        break;
      case DirOp::kRename:
        check(target()->RenameFile(op->path, op->from, io, nullptr), "unrename " + op->path);
        MoveStateLocked(op->path, op->from);
        if (!op->trash.empty()) {
          check(target()->RenameFile(op->trash, op->path, io, nullptr), "restore " + op->path);
          MoveStateLocked(op->trash, op->path);
        }
        break;
      case DirOp::kDelete:
        check(target()->RenameFile(op->trash, op->path, io, nullptr), "undelete " + op->path);
        MoveStateLocked(op->trash, op->path);
        break;
    }
  }
  pending_.clear();
  for (const auto& [path, state] : files_) {
    std::uint64_t size = 0;
    if (!target()->GetFileSize(path, io, &size, nullptr).ok()) continue;  // gone
    // RocksDB's POSIX file system has no Truncate by name.
    if (size > state->synced && ::truncate(path.c_str(), static_cast<off_t>(state->synced)) != 0) {
      check(IOStatus::IOError(std::strerror(errno)), "truncate " + path);
    }
  }
}

void PowerLossFs::DirectorySynced(const std::string& dir) {
  for (DirOp& op : pending_) std::erase(op.dirs, dir);
  auto durable = [](const DirOp& op) { return op.dirs.empty(); };
  for (const DirOp& op : pending_) {
    if (durable(op)) ForgetTrashLocked(op);
  }
  std::erase_if(pending_, durable);
}

// The change is durable: the file kept aside to undo it goes for good.
void PowerLossFs::ForgetTrashLocked(const DirOp& op) {
  if (op.trash.empty()) return;
  target()->DeleteFile(op.trash, IOOptions(), nullptr);
  files_.erase(op.trash);
}

std::string PowerLossFs::TrashPathLocked(const std::string& path) {
  // Beside the directory, not in it, so RocksDB never lists it.
  const std::string dir = Parent(path) + ".power-loss-trash";
  if (std::find(trash_dirs_.begin(), trash_dirs_.end(), dir) == trash_dirs_.end()) {
    target()->CreateDirIfMissing(dir, IOOptions(), nullptr);
    trash_dirs_.push_back(dir);
  }
  return absl::StrCat(dir, "/", ++trash_seq_, "-", BaseName(path));
}

void PowerLossFs::MoveStateLocked(const std::string& from, const std::string& to) {
  auto it = files_.find(from);
  if (it == files_.end()) {
    files_.erase(to);
    return;
  }
  files_[to] = std::move(it->second);
  files_.erase(from);
}

std::shared_ptr<FileState> PowerLossFs::StateLocked(const std::string& path) {
  auto& state = files_[path];
  if (!state) {
    // Written before the simulator saw it: durable as it is.
    state = std::make_shared<FileState>();
    std::uint64_t size = 0;
    if (target()->GetFileSize(path, IOOptions(), &size, nullptr).ok()) {
      state->size = state->synced = size;
    }
  }
  return state;
}

IOStatus PowerLossFs::WrapWritable(const std::string& path, std::shared_ptr<FileState> state,
                                   std::unique_ptr<rocksdb::FSWritableFile>* r) {
  *r = std::make_unique<PowerLossWritableFile>(*this, path, std::move(state), std::move(*r));
  return IOStatus::OK();
}

IOStatus PowerLossFs::NewWritableFile(const std::string& f, const FileOptions& file_opts,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      IODebugContext* dbg) {
  const std::string path = Normal(f);
  std::lock_guard lock(mu_);
  if (IOStatus s = Begin("Create", path, /*power_goes_after=*/true); !s.ok()) return s;
  const bool existed = target()->FileExists(path, IOOptions(), nullptr).ok();
  IOStatus s = target()->NewWritableFile(path, file_opts, r, dbg);
  if (s.ok()) {
    if (!existed) pending_.push_back({DirOp::kCreate, path, "", "", {Parent(path)}});
    // An existing file is emptied: its old bytes are not promised either.
    auto state = std::make_shared<FileState>();
    files_[path] = state;
    s = WrapWritable(path, std::move(state), r);
  }
  EndLocked();
  return s;
}

IOStatus PowerLossFs::ReopenWritableFile(const std::string& f, const FileOptions& file_opts,
                                         std::unique_ptr<rocksdb::FSWritableFile>* r,
                                         IODebugContext* dbg) {
  const std::string path = Normal(f);
  std::lock_guard lock(mu_);
  if (IOStatus s = Begin("Reopen", path, /*power_goes_after=*/true); !s.ok()) return s;
  const bool existed = target()->FileExists(path, IOOptions(), nullptr).ok();
  IOStatus s = target()->ReopenWritableFile(path, file_opts, r, dbg);
  if (s.ok()) {
    if (!existed) pending_.push_back({DirOp::kCreate, path, "", "", {Parent(path)}});
    s = WrapWritable(path, StateLocked(path), r);
  }
  EndLocked();
  return s;
}

// Log recycling (recycle_log_file_num) rewrites files in place, which the
// model does not follow; the ledger does not turn it on.
IOStatus PowerLossFs::ReuseWritableFile(const std::string& /*f*/, const std::string& /*old_f*/,
                                        const FileOptions& /*file_opts*/,
                                        std::unique_ptr<rocksdb::FSWritableFile>* /*r*/,
                                        IODebugContext* /*dbg*/) {
  return IOStatus::NotSupported("PowerLossFs: ReuseWritableFile");
}

IOStatus PowerLossFs::NewRandomRWFile(const std::string& /*f*/, const FileOptions& /*file_opts*/,
                                      std::unique_ptr<rocksdb::FSRandomRWFile>* /*r*/,
                                      IODebugContext* /*dbg*/) {
  return IOStatus::NotSupported("PowerLossFs: NewRandomRWFile");
}

IOStatus PowerLossFs::NewSequentialFile(const std::string& f, const FileOptions& file_opts,
                                        std::unique_ptr<rocksdb::FSSequentialFile>* r,
                                        IODebugContext* dbg) {
  {
    std::lock_guard lock(mu_);
    if (IOStatus s = CheckPowerLocked(); !s.ok()) return s;
  }
  return target()->NewSequentialFile(f, file_opts, r, dbg);
}

IOStatus PowerLossFs::NewRandomAccessFile(const std::string& f, const FileOptions& file_opts,
                                          std::unique_ptr<rocksdb::FSRandomAccessFile>* r,
                                          IODebugContext* dbg) {
  {
    std::lock_guard lock(mu_);
    if (IOStatus s = CheckPowerLocked(); !s.ok()) return s;
  }
  return target()->NewRandomAccessFile(f, file_opts, r, dbg);
}

IOStatus PowerLossFs::NewDirectory(const std::string& name, const IOOptions& io_opts,
                                   std::unique_ptr<rocksdb::FSDirectory>* r, IODebugContext* dbg) {
  std::lock_guard lock(mu_);
  if (IOStatus s = CheckPowerLocked(); !s.ok()) return s;
  std::unique_ptr<rocksdb::FSDirectory> dir;
  if (IOStatus s = target()->NewDirectory(name, io_opts, &dir, dbg); !s.ok()) return s;
  *r = std::make_unique<PowerLossDirectory>(*this, Normal(name), std::move(dir));
  return IOStatus::OK();
}

IOStatus PowerLossFs::DeleteFile(const std::string& f, const IOOptions& options,
                                 IODebugContext* dbg) {
  const std::string path = Normal(f);
  std::lock_guard lock(mu_);
  if (IOStatus s = Begin("Delete", path); !s.ok()) return s;
  if (IOStatus s = target()->FileExists(path, options, dbg); !s.ok()) return s;
  // Kept aside until the directory is fsynced, to be put back at a crash.
  const std::string trash = TrashPathLocked(path);
  if (IOStatus s = target()->RenameFile(path, trash, options, dbg); !s.ok()) return s;
  MoveStateLocked(path, trash);
  pending_.push_back({DirOp::kDelete, path, "", trash, {Parent(path)}});
  return IOStatus::OK();
}

IOStatus PowerLossFs::RenameFile(const std::string& from_name, const std::string& to_name,
                                 const IOOptions& options, IODebugContext* dbg) {
  const std::string from = Normal(from_name);
  const std::string to = Normal(to_name);
  std::lock_guard lock(mu_);
  if (IOStatus s = Begin("Rename", to); !s.ok()) return s;
  std::string trash;
  if (target()->FileExists(to, options, dbg).ok()) {
    // The file `to` named until now survives a crash: keep a link to it.
    trash = TrashPathLocked(to);
    if (IOStatus s = target()->LinkFile(to, trash, options, dbg); !s.ok()) return s;
  }
  if (IOStatus s = target()->RenameFile(from, to, options, dbg); !s.ok()) {
    if (!trash.empty()) target()->DeleteFile(trash, options, dbg);
    return s;
  }
  if (!trash.empty()) MoveStateLocked(to, trash);
  MoveStateLocked(from, to);
  std::vector<std::string> dirs = {Parent(to)};
  if (Parent(from) != Parent(to)) dirs.push_back(Parent(from));
  pending_.push_back({DirOp::kRename, to, from, trash, std::move(dirs)});
  return IOStatus::OK();
}

IOStatus PowerLossFs::LinkFile(const std::string& from_name, const std::string& to_name,
                               const IOOptions& options, IODebugContext* dbg) {
  const std::string from = Normal(from_name);
  const std::string to = Normal(to_name);
  std::lock_guard lock(mu_);
  if (IOStatus s = Begin("Link", to); !s.ok()) return s;
  if (IOStatus s = target()->LinkFile(from, to, options, dbg); !s.ok()) return s;
  // Both names are the same inode, so they share what survives of it.
  files_[to] = StateLocked(from);
  pending_.push_back({DirOp::kCreate, to, "", "", {Parent(to)}});
  return IOStatus::OK();
}

IOStatus PowerLossFs::Truncate(const std::string& f, size_t size, const IOOptions& options,
                               IODebugContext* dbg) {
  const std::string path = Normal(f);
  std::lock_guard lock(mu_);
  if (IOStatus s = Begin("Truncate", path); !s.ok()) return s;
  std::shared_ptr<FileState> state = StateLocked(path);
  if (IOStatus s = target()->Truncate(path, size, options, dbg); !s.ok()) return s;
  state->size = size;
  state->synced = std::min<std::uint64_t>(state->synced, size);
  return IOStatus::OK();
}

IOStatus PowerLossFs::CreateDir(const std::string& d, const IOOptions& options,
                                IODebugContext* dbg) {
  {
    std::lock_guard lock(mu_);
    if (IOStatus s = CheckPowerLocked(); !s.ok()) return s;
  }
  return target()->CreateDir(d, options, dbg);
}

IOStatus PowerLossFs::CreateDirIfMissing(const std::string& d, const IOOptions& options,
                                         IODebugContext* dbg) {
  {
    std::lock_guard lock(mu_);
    if (IOStatus s = CheckPowerLocked(); !s.ok()) return s;
  }
  return target()->CreateDirIfMissing(d, options, dbg);
}

IOStatus PowerLossFs::DeleteDir(const std::string& d, const IOOptions& options,
                                IODebugContext* dbg) {
  {
    std::lock_guard lock(mu_);
    if (IOStatus s = CheckPowerLocked(); !s.ok()) return s;
  }
  return target()->DeleteDir(d, options, dbg);
}

}  // namespace attendance::ledger::fault
