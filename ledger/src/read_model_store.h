#pragma once

#include <rocksdb/db.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ledger/ledger.h"

namespace attendance::ledger {

// ReadModelStore on the `read_models` column family (keys: name | 0x00 |
// key) and the `checkpoints` column family (name -> position || state).
absl::StatusOr<std::unique_ptr<ReadModelStore>> NewRocksReadModelStore(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* read_models,
    rocksdb::ColumnFamilyHandle* checkpoints, const std::string& name);

}  // namespace attendance::ledger
