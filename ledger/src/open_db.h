#pragma once

// Opening the ledger's RocksDB, read-write or read-only: the part of
// RocksLedger::Open that knows which column families exist on disk.

#include <string>
#include <vector>

#include <rocksdb/db.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ledger/types.h"

namespace attendance::ledger {

// Opens `dir` with the column families in `descriptors` (default first);
// `handles` gets one handle per descriptor, in order.
//
// Read-write: families of earlier versions that nothing reads any more
// (keys::kRetiredColumnFamilies) are opened and dropped, so their files go.
// Read-only: DB::OpenForReadOnly, which takes no lock and writes nothing,
// with RocksDB's info log sent to the ledger's logger so that LOG is not
// rotated; it replays the WAL into memory, so a copy of a live directory
// opens as of the copy. The DB must exist.
absl::Status OpenLedgerDb(rocksdb::DBOptions db_options, const std::string& dir, bool read_only,
                          const std::vector<rocksdb::ColumnFamilyDescriptor>& descriptors,
                          std::vector<rocksdb::ColumnFamilyHandle*>* handles, rocksdb::DB** db);

// The highest position stored in `events` (0 if none), without reading the
// log: a read-only ledger's head, gaps and all, for VerifyChain to examine.
absl::StatusOr<Position> LastStoredPosition(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* events);

}  // namespace attendance::ledger
