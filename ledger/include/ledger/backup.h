#pragma once

// Backups of a ledger's data directory, taken by Ledger::CreateBackup while
// it serves. A backup directory holds any number of backups, numbered from 1,
// sharing their unchanged table files; every file is checksummed.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ledger/ledger.h"

namespace attendance::ledger {

// The backups in `backup_dir`, oldest first. NOT_FOUND if it holds none.
absl::StatusOr<std::vector<BackupInfo>> ListBackups(const std::string& backup_dir);

// Checks every file of backup `id` (0 = the latest) against its recorded
// size and checksum. DATA_LOSS naming the file; NOT_FOUND if no such backup.
absl::Status VerifyBackup(const std::string& backup_dir, std::uint32_t id);

// Deletes all but the newest `keep` backups (keep >= 1).
absl::Status PurgeBackups(const std::string& backup_dir, std::uint32_t keep);

struct RestoreResult {
  BackupInfo backup;
  Position last_position = 0;
  IndexVerification verified;
};

// Restores backup `id` (0 = the latest) into `to`, which must not exist or
// be an empty directory (FAILED_PRECONDITION otherwise: a restore never
// overwrites a ledger). The backup is restored beside `to` first, opened as a
// ledger and verified -- file checksums, the hash chain and every index --
// and only then moved to `to`, so `to` never holds a ledger that did not
// verify. DATA_LOSS naming what failed; NOT_FOUND if no such backup.
absl::StatusOr<RestoreResult> RestoreBackup(const std::string& backup_dir, std::uint32_t id,
                                            const std::string& to);

}  // namespace attendance::ledger
