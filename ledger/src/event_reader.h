#pragma once

// Reading stored events in order, gaps detected: what ForEachEvent,
// ReadChunk and VerifyChain share (event_reader.cc).

#include <functional>
#include <string_view>

#include <rocksdb/db.h>

#include "absl/status/status.h"
#include "ledger/types.h"

namespace attendance::ledger {

using ScanFn = std::function<absl::Status(Position, std::string_view hash,
                                          std::string_view prev_hash, std::string_view body)>;

// Visits the events stored in `events` at [from, to] in order, checking
// there are no gaps; `snapshot` may be null. A DATA_LOSS from `fn` that
// names no position is given the event's.
absl::Status ScanEvents(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* events,
                        const rocksdb::Snapshot* snapshot, Position from, Position to,
                        const ScanFn& fn);

}  // namespace attendance::ledger
