#pragma once

// The head record: the last acknowledged position and its chain hash, kept
// in a small file beside RocksDB (<data_dir>/LEDGER-HEAD), outside the WAL,
// so that a damaged or truncated WAL cannot take it away with the events.
// At start-up the log RocksDB recovered must reach that position with that
// hash, or the ledger refuses to open (CheckRecoveredHead).
//
// The file is replaced atomically (write a temp file, fsync, rename, fsync
// the directory) by a background thread after commits, never on the commit
// path, and once more at clean shutdown. It therefore lags the log: after a
// crash it may name an earlier position than the last acknowledged one (by
// the events committed during one write of this file plus kHeadMinInterval),
// never a later one, since it only advances to positions already durable.
// A loss that reaches back no further than that lag, after an unclean stop,
// is not detected by this check; after a clean shutdown the record is exact.

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ledger/types.h"

namespace attendance::ledger {

struct LedgerHead {
  Position position = 0;
  std::string hash;  // chain hash of the event at `position`, raw bytes
};

std::string HeadRecordPath(const std::string& data_dir);

// nullopt if there is no head record (a new ledger, or one written before
// head records existed). DATA_LOSS naming the file if it cannot be parsed.
absl::StatusOr<std::optional<LedgerHead>> ReadHeadRecord(const std::string& path);

// Replaces the file atomically and durably. RESOURCE_EXHAUSTED on a full
// disk, UNAVAILABLE on other I/O errors; the old record is kept either way.
absl::Status WriteHeadRecord(const std::string& path, const LedgerHead& head);

// OK if the recovered log (ending at `recovered_last`) contains the
// recorded head: `hash_at_recorded` is the stored hash of the recovered
// event at recorded.position (empty if the log is shorter). Otherwise
// DATA_LOSS naming the directory, the file, both positions and what the
// operator can do.
absl::Status CheckRecoveredHead(const std::string& data_dir, const LedgerHead& recorded,
                                Position recovered_last, absl::string_view hash_at_recorded);

// A DATA_LOSS from RocksDB's open, with what the operator needs added: the
// position the head record says was acknowledged, the WAL files, and what to
// do. Other statuses are returned as they are.
absl::Status ExplainOpenFailure(const std::string& data_dir, const absl::Status& status);

// Least time between two writes of the head record, so that under load it
// costs a bounded number of fsyncs a second, not one per commit.
inline constexpr int kHeadMinIntervalMs = 20;

// The background writer of the head record. Advance() is cheap and may be
// called on the commit path; the file is written on the recorder's thread.
// Thread-safe.
class HeadRecorder {
 public:
  // Writes `initial` at once (a failure is logged, and retried later).
  HeadRecorder(std::string path, LedgerHead initial);
  ~HeadRecorder();
  HeadRecorder(const HeadRecorder&) = delete;
  HeadRecorder& operator=(const HeadRecorder&) = delete;

  // `position` is durable and `hash` is its chain hash.
  void Advance(Position position, absl::string_view hash);

  // Stops the thread and writes the latest head synchronously (clean
  // shutdown). Idempotent.
  absl::Status Stop();

 private:
  void Loop();

  const std::string path_;
  std::mutex mu_;
  std::condition_variable cv_;
  LedgerHead latest_;
  bool dirty_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace attendance::ledger
