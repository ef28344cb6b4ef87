// The RocksDB side of PowerLossSimulator: a FileSystem that keeps, beside
// the real files, what a power cut would leave of them.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/system_clock.h>

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "ledger/power_loss.h"

namespace attendance::ledger::fault {

using Activity = PowerLossSimulator::Activity;

// What survives of one file (one inode: it follows renames and links).
struct FileState {
  std::uint64_t size = 0;    // bytes written
  std::uint64_t synced = 0;  // bytes up to the last Sync / Fsync
};

// Forwards to the real file system and records, under one lock, what is
// not durable yet. See power_loss.h for the model.
class PowerLossFs final : public rocksdb::FileSystemWrapper {
 public:
  explicit PowerLossFs(std::shared_ptr<rocksdb::FileSystem> base);
  const char* Name() const override { return "PowerLossFs"; }

  // The simulator's controls (PowerLossSimulator forwards to these).
  void Arm(std::uint64_t nth, Activity activity);
  void Crash();
  bool power_lost() const;
  std::string crash_point() const;
  std::uint64_t operations(Activity activity) const;
  absl::Status Reset();

  // For the file and directory wrappers: counts one operation of `op` on
  // `path` and cuts the power if it is the armed one. Not OK once the power
  // is lost. Call with mu() held.
  //
  // With `power_goes_after` (file creations), the armed operation is done
  // and the power goes at EndLocked(). The disk after the crash is the same
  // (a creation not fsynced is undone), and it keeps clear of a RocksDB 7.8
  // bug: when creating a new WAL fails while several memtables are switched
  // at once, ScheduleFlushes leaks a column family reference (fixed upstream
  // in facebook/rocksdb#12176) and Debian's build, which keeps assertions,
  // aborts in ~ColumnFamilySet when the DB is closed.
  rocksdb::IOStatus Begin(const char* op, const std::string& path, bool power_goes_after = false);
  void EndLocked();
  // Not OK once the power is lost; counts nothing. Call with mu() held.
  rocksdb::IOStatus CheckPower() const;
  std::mutex& mu() const { return mu_; }
  // The directory at `dir` was fsynced: what was created, renamed or
  // deleted in it is durable. Call with mu() held.
  void DirectorySynced(const std::string& dir);

  using IOStatus = rocksdb::IOStatus;
  using FileOptions = rocksdb::FileOptions;
  using IOOptions = rocksdb::IOOptions;
  using IODebugContext = rocksdb::IODebugContext;

  IOStatus NewWritableFile(const std::string& f, const FileOptions& file_opts,
                           std::unique_ptr<rocksdb::FSWritableFile>* r,
                           IODebugContext* dbg) override;
  IOStatus ReopenWritableFile(const std::string& f, const FileOptions& file_opts,
                              std::unique_ptr<rocksdb::FSWritableFile>* r,
                              IODebugContext* dbg) override;
  IOStatus ReuseWritableFile(const std::string& f, const std::string& old_f,
                             const FileOptions& file_opts,
                             std::unique_ptr<rocksdb::FSWritableFile>* r,
                             IODebugContext* dbg) override;
  IOStatus NewRandomRWFile(const std::string& f, const FileOptions& file_opts,
                           std::unique_ptr<rocksdb::FSRandomRWFile>* r,
                           IODebugContext* dbg) override;
  IOStatus NewSequentialFile(const std::string& f, const FileOptions& file_opts,
                             std::unique_ptr<rocksdb::FSSequentialFile>* r,
                             IODebugContext* dbg) override;
  IOStatus NewRandomAccessFile(const std::string& f, const FileOptions& file_opts,
                               std::unique_ptr<rocksdb::FSRandomAccessFile>* r,
                               IODebugContext* dbg) override;
  IOStatus NewDirectory(const std::string& name, const IOOptions& io_opts,
                        std::unique_ptr<rocksdb::FSDirectory>* r, IODebugContext* dbg) override;
  IOStatus DeleteFile(const std::string& f, const IOOptions& options, IODebugContext* dbg) override;
  IOStatus RenameFile(const std::string& from, const std::string& to, const IOOptions& options,
                      IODebugContext* dbg) override;
  IOStatus LinkFile(const std::string& from, const std::string& to, const IOOptions& options,
                    IODebugContext* dbg) override;
  IOStatus Truncate(const std::string& f, size_t size, const IOOptions& options,
                    IODebugContext* dbg) override;
  IOStatus CreateDir(const std::string& d, const IOOptions& options, IODebugContext* dbg) override;
  IOStatus CreateDirIfMissing(const std::string& d, const IOOptions& options,
                              IODebugContext* dbg) override;
  IOStatus DeleteDir(const std::string& d, const IOOptions& options, IODebugContext* dbg) override;

 private:
  // A change to a directory entry not yet made durable by fsyncing the
  // directories in `dirs`.
  struct DirOp {
    enum Kind { kCreate, kRename, kDelete } kind;
    std::string path;  // the name created, renamed to, or deleted
    std::string from;  // kRename: the old name
    // kDelete: where the deleted file waits; kRename: where the file that
    // `path` named before the rename waits ("" if there was none).
    std::string trash;
    std::vector<std::string> dirs;  // directories still to be fsynced
  };

  IOStatus CheckPowerLocked() const;
  void LosePowerLocked(std::string point);
  void RevertLocked();
  void ForgetTrashLocked(const DirOp& op);
  std::string TrashPathLocked(const std::string& path);
  void MoveStateLocked(const std::string& from, const std::string& to);
  std::shared_ptr<FileState> StateLocked(const std::string& path);
  IOStatus WrapWritable(const std::string& path, std::shared_ptr<FileState> state,
                        std::unique_ptr<rocksdb::FSWritableFile>* r);

  mutable std::mutex mu_;
  bool lost_ = false;
  std::string crash_point_;
  absl::Status revert_status_;
  bool armed_ = false;
  Activity armed_activity_ = Activity::kAny;
  std::uint64_t armed_at_ = 0;
  std::string power_goes_at_end_;  // the crash point Begin deferred to EndLocked
  std::array<std::uint64_t, 4> operations_{};
  // Files written since the last Reset, by current name. Untracked files
  // are durable as they are.
  std::unordered_map<std::string, std::shared_ptr<FileState>> files_;
  std::vector<DirOp> pending_;  // oldest first
  std::uint64_t trash_seq_ = 0;
  std::vector<std::string> trash_dirs_;
};

// An Env doing its file I/O through `fs`.
std::unique_ptr<rocksdb::Env> NewPowerLossEnv(const std::shared_ptr<PowerLossFs>& fs);

// The Env to put in DBOptions::env for a ledger opened on `simulator`.
rocksdb::Env* PowerLossEnv(PowerLossSimulator& simulator);

}  // namespace attendance::ledger::fault

namespace attendance::ledger {

struct PowerLossSimulator::Impl {
  Impl();
  std::shared_ptr<fault::PowerLossFs> fs;
  std::unique_ptr<rocksdb::Env> env;
};

}  // namespace attendance::ledger
