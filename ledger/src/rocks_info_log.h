#pragma once

#include <memory>

#include <rocksdb/env.h>

namespace attendance::ledger {

// RocksDB's info log, sent to the ledger's spdlog logger instead of a LOG
// file in the data directory. A LOG file on the data disk is what aborted the
// process when that disk filled up (Debian's RocksDB keeps its assertions,
// and its file logger asserts on a failed write); spdlog writes to stderr,
// never to the data disk, and drops nothing on the floor silently.
//
// RocksDB's INFO and HEADER lines (options, flushes, compactions: hundreds
// per hour) go to spdlog's debug level; WARN to warn; ERROR and FATAL to
// error. Thread-safe, as RocksDB requires.
std::shared_ptr<rocksdb::Logger> NewSpdlogInfoLog();

}  // namespace attendance::ledger
