// Backups through RocksDB's BackupEngine: consistent (the engine stops file
// deletions, flushes, and copies the live table files with the WAL written
// up to that moment, so the backup is one point of the log), incremental
// (table files shared between backups, named by checksum) and checksummed.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <system_error>

#include <rocksdb/utilities/backup_engine.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "backup_impl.h"
#include "ledger/backup.h"
#include "logger.h"
#include "rocks_status.h"

namespace attendance::ledger {
namespace {

namespace fs = std::filesystem;

// Stored with each backup, so that a listing says what it holds at least.
constexpr absl::string_view kMetadataPrefix = "attendance-ledger acknowledged_before=";

// BackupEngine allows one writer per backup directory.
std::mutex& BackupMutex() {
  static std::mutex mu;
  return mu;
}

BackupInfo ToBackupInfo(const rocksdb::BackupInfo& info) {
  BackupInfo out;
  out.id = info.backup_id;
  out.created_unix_s = info.timestamp;
  out.size_bytes = info.size;
  out.files = info.number_files;
  absl::string_view metadata = info.app_metadata;
  if (absl::ConsumePrefix(&metadata, kMetadataPrefix)) {
    (void)absl::SimpleAtoi(metadata, &out.acknowledged_before);
  }
  return out;
}

absl::StatusOr<std::unique_ptr<rocksdb::BackupEngineReadOnly>> OpenForReading(
    const std::string& backup_dir) {
  std::error_code error;
  if (!fs::is_directory(backup_dir, error)) {
    return absl::NotFoundError(absl::StrCat("backup dir ", backup_dir, ": no such directory"));
  }
  rocksdb::BackupEngineReadOnly* engine = nullptr;
  if (auto s =
          FromRocks(rocksdb::BackupEngineReadOnly::Open(
                        rocksdb::Env::Default(), rocksdb::BackupEngineOptions(backup_dir), &engine),
                    absl::StrCat("open backup dir ", backup_dir));
      !s.ok()) {
    return s;
  }
  return std::unique_ptr<rocksdb::BackupEngineReadOnly>(engine);
}

// Creates the directory's engine if there is none yet (a first backup).
absl::StatusOr<std::unique_ptr<rocksdb::BackupEngine>> OpenForWriting(
    const std::string& backup_dir) {
  rocksdb::BackupEngine* engine = nullptr;
  if (auto s =
          FromRocks(rocksdb::BackupEngine::Open(rocksdb::Env::Default(),
                                                rocksdb::BackupEngineOptions(backup_dir), &engine),
                    absl::StrCat("open backup dir ", backup_dir));
      !s.ok()) {
    return s;
  }
  return std::unique_ptr<rocksdb::BackupEngine>(engine);
}

// Backup `id` (0 = the latest good one), its files checked against their
// recorded sizes and checksums.
absl::StatusOr<rocksdb::BackupInfo> VerifiedBackup(const rocksdb::BackupEngineReadOnly& engine,
                                                   const std::string& backup_dir,
                                                   std::uint32_t id) {
  rocksdb::BackupInfo info;
  rocksdb::Status s = id == 0 ? engine.GetLatestBackupInfo(&info) : engine.GetBackupInfo(id, &info);
  if (s.IsNotFound()) {
    return absl::NotFoundError(id == 0
                                   ? absl::StrCat("backup dir ", backup_dir, ": no backups")
                                   : absl::StrCat("backup dir ", backup_dir, ": no backup ", id));
  }
  if (!s.ok()) {
    return absl::DataLossError(
        absl::StrCat("backup dir ", backup_dir, ": backup ", id, ": ", s.ToString()));
  }
  rocksdb::IOStatus verified = engine.VerifyBackup(info.backup_id, /*verify_with_checksum=*/true);
  if (!verified.ok()) {
    // A missing file, a wrong size or checksum: the backup cannot be trusted.
    return absl::DataLossError(absl::StrCat("backup dir ", backup_dir, ": backup ", info.backup_id,
                                            " does not verify: ", verified.ToString()));
  }
  return info;
}

// Makes a rename in `dir` durable.
void SyncDirectory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

// Opens a restored directory as a ledger, as a server would, and verifies
// the chain and every index.
absl::StatusOr<RestoreResult> CheckRestored(const std::string& dir) {
  LedgerOptions options;
  options.data_dir = dir;
  auto ledger = Ledger::Open(options);
  if (!ledger.ok()) return ledger.status();
  RestoreResult result;
  result.last_position = (*ledger)->LastPosition();
  if (auto s = (*ledger)->VerifyChain(1, 0); !s.ok()) return s;
  auto verified = (*ledger)->VerifyIndexes();
  if (!verified.ok()) return verified.status();
  result.verified = *verified;
  return result;
}

}  // namespace

absl::StatusOr<BackupInfo> BackupLedgerDb(rocksdb::DB& db, Position acknowledged,
                                          const std::string& backup_dir) {
  std::lock_guard lock(BackupMutex());
  // Acknowledged writes are synced already; this covers a ledger opened
  // with sync off.
  if (auto s = FromRocks(db.FlushWAL(/*sync=*/true), "flush the WAL"); !s.ok()) return s;
  auto engine = OpenForWriting(backup_dir);
  if (!engine.ok()) return engine.status();
  rocksdb::CreateBackupOptions create;
  create.flush_before_backup = true;
  rocksdb::BackupID id = 0;
  if (auto s = FromRocks((*engine)->CreateNewBackupWithMetadata(
                             create, &db, absl::StrCat(kMetadataPrefix, acknowledged), &id),
                         absl::StrCat("back up to ", backup_dir));
      !s.ok()) {
    return s;
  }
  rocksdb::BackupInfo info;
  if (auto s = FromRocks((*engine)->GetBackupInfo(id, &info), "read the new backup's info");
      !s.ok()) {
    return s;
  }
  SPDLOG_LOGGER_INFO(&Log(), "backup {} in {}: {} files, {} bytes, positions 1..{} at least", id,
                     backup_dir, info.number_files, info.size, acknowledged);
  return ToBackupInfo(info);
}

absl::StatusOr<std::vector<BackupInfo>> ListBackups(const std::string& backup_dir) {
  auto engine = OpenForReading(backup_dir);
  if (!engine.ok()) return engine.status();
  std::vector<rocksdb::BackupInfo> infos;
  (*engine)->GetBackupInfo(&infos);
  if (infos.empty())
    return absl::NotFoundError(absl::StrCat("backup dir ", backup_dir, ": no backups"));
  std::vector<BackupInfo> out;
  for (const auto& info : infos) out.push_back(ToBackupInfo(info));
  return out;
}

absl::Status VerifyBackup(const std::string& backup_dir, std::uint32_t id) {
  auto engine = OpenForReading(backup_dir);
  if (!engine.ok()) return engine.status();
  return VerifiedBackup(**engine, backup_dir, id).status();
}

absl::Status PurgeBackups(const std::string& backup_dir, std::uint32_t keep) {
  if (keep == 0) return absl::InvalidArgumentError("keep: must be at least 1");
  std::lock_guard lock(BackupMutex());
  std::error_code error;
  if (!fs::is_directory(backup_dir, error)) {
    return absl::NotFoundError(absl::StrCat("backup dir ", backup_dir, ": no such directory"));
  }
  auto engine = OpenForWriting(backup_dir);
  if (!engine.ok()) return engine.status();
  return FromRocks((*engine)->PurgeOldBackups(keep), absl::StrCat("purge ", backup_dir));
}

absl::StatusOr<RestoreResult> RestoreBackup(const std::string& backup_dir, std::uint32_t id,
                                            const std::string& to) {
  if (to.empty()) return absl::InvalidArgumentError("to: must not be empty");
  const fs::path target = fs::path(to).lexically_normal();
  std::error_code error;
  const bool target_exists = fs::exists(target, error);
  if (target_exists && (!fs::is_directory(target, error) || !fs::is_empty(target, error))) {
    return absl::FailedPreconditionError(absl::StrCat(
        "to: ", to, " is not an empty directory; a restore never overwrites a ledger"));
  }
  auto engine = OpenForReading(backup_dir);
  if (!engine.ok()) return engine.status();
  auto info = VerifiedBackup(**engine, backup_dir, id);
  if (!info.ok()) return info.status();

  // Restored and verified beside the target, then renamed into place.
  fs::path staging = target;
  if (staging.filename().empty()) staging = staging.parent_path();
  staging += ".restoring";
  fs::remove_all(staging, error);
  if (!staging.parent_path().empty()) fs::create_directories(staging.parent_path(), error);
  auto discard = [&](absl::Status s) {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    return s;
  };
  rocksdb::IOStatus restored =
      (*engine)->RestoreDBFromBackup(info->backup_id, staging.string(), staging.string());
  if (!restored.ok()) {
    auto s = FromRocks(restored, absl::StrCat("restore backup ", info->backup_id));
    return discard(restored.IsCorruption() ? absl::DataLossError(s.message()) : s);
  }
  auto checked = CheckRestored(staging.string());
  if (!checked.ok()) {
    return discard(absl::Status(
        checked.status().code(),
        absl::StrCat("backup ", info->backup_id, " restored but does not verify, not installed: ",
                     checked.status().message())));
  }
  if (target_exists) fs::remove(target, error);
  fs::rename(staging, target, error);
  if (error) {
    return discard(absl::UnavailableError(
        absl::StrCat("move ", staging.string(), " to ", to, ": ", error.message())));
  }
  SyncDirectory(target.parent_path().empty() ? fs::path(".") : target.parent_path());
  checked->backup = ToBackupInfo(*info);
  SPDLOG_LOGGER_INFO(&Log(), "restored backup {} to {}: positions 1..{}, verified", info->backup_id,
                     to, checked->last_position);
  return checked;
}

}  // namespace attendance::ledger
