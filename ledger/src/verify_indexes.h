#pragma once

#include <rocksdb/db.h>

#include "absl/status/statusor.h"
#include "group.h"
#include "ledger/ledger.h"

namespace attendance::ledger {

// Ledger::VerifyIndexes over `db`, from one snapshot: rebuilds the `marks`
// index and the request ids from the events and compares them with the
// stored families in both directions, then verifies every table file's
// block checksums. Holds one entry per marked session in memory.
absl::StatusOr<IndexVerification> VerifyLedgerIndexes(rocksdb::DB& db, const ColumnFamilies& cf);

}  // namespace attendance::ledger
