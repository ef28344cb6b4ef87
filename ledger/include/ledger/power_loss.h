#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"

namespace attendance::ledger {

// A power cut for tests. A Ledger opened with LedgerOptions::power_loss set
// does its file I/O through a file system that remembers what a power loss
// would keep: per file, the bytes up to its last Sync/Fsync (RangeSync and
// Close make nothing durable), and per directory, the files created,
// renamed and deleted since that directory was last fsynced.
//
// When the power goes (at an armed operation, or on Crash()), every later
// write, sync, rename, delete and file open fails with an I/O error, and
// the files on disk are put back to what would survive: unsynced bytes are
// cut off, unsynced creations removed, unsynced renames and deletions
// undone. The ledger that was running can then only fail and be destroyed;
// after Reset() a new one opens on the surviving files.
//
// The simulator never passes a sync on to the real disk: durability is
// decided by the model, so the real machine's crashes are out of scope.
// The RocksDB info log (LOG) bypasses it.
//
// Thread-safe. Every file operation of the ledger holds one lock, so it is
// for tests only. Must outlive every Ledger opened with it.
class PowerLossSimulator {
 public:
  // Which thread does a file operation: RocksDB's flush threads, its
  // compaction threads, or any other (the ledger's commit path, open, close).
  enum class Activity { kAny, kForeground, kFlush, kCompaction };

  PowerLossSimulator();
  ~PowerLossSimulator();
  PowerLossSimulator(const PowerLossSimulator&) = delete;
  PowerLossSimulator& operator=(const PowerLossSimulator&) = delete;

  // The power goes at the `nth` (1-based) file operation of `activity`
  // counted from this call: that operation fails and does nothing, except
  // a file creation, after which the power goes (the disk after the crash
  // is the same; see power_loss_fs.h for why). Operations are file
  // creations, appends, truncations, syncs, closes, renames, links,
  // deletions and directory fsyncs.
  void Arm(std::uint64_t nth, Activity activity = Activity::kAny);

  // The power goes now (if it has not already).
  void Crash();
  bool power_lost() const;
  // What the power cut interrupted, e.g. "flush: Sync 000012.sst (op 41)",
  // or "Crash()" when it was not an armed operation; empty while powered.
  std::string crash_point() const;

  // Operations of `activity` since construction or the last Reset().
  std::uint64_t operations(Activity activity = Activity::kAny) const;

  // Power back on: disarms, forgets what was unsynced (what is on disk now
  // is what a new ledger will find) and zeroes the counts. Call only when no
  // ledger is open on the simulator. INTERNAL if the files could not be put
  // back at the last power cut.
  absl::Status Reset();

  // The implementation (a RocksDB FileSystem) for ledger/src only.
  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace attendance::ledger
