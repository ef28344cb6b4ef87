#pragma once

#include <string>

#include <rocksdb/db.h>

#include "absl/status/statusor.h"
#include "ledger/ledger.h"

namespace attendance::ledger {

// Ledger::CreateBackup over `db`, which keeps taking writes meanwhile.
// `acknowledged` is the last position acknowledged before the call.
absl::StatusOr<BackupInfo> BackupLedgerDb(rocksdb::DB& db, Position acknowledged,
                                          const std::string& backup_dir);

}  // namespace attendance::ledger
