#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "attendance/v1/events.pb.h"
#include "attendance/v1/ledger_service.pb.h"
#include "google/protobuf/arena.h"
#include "ledger/clock.h"
#include "ledger/command_table.h"
#include "ledger/types.h"

namespace attendance::ledger {

// A run of committed events read from disk in one bounded pass and then
// released by the store: a follower that holds a chunk pins nothing in the
// store (no snapshot, no iterator, no memtable).
//
// The events live in the chunk's own protobuf arena: decoding one costs no
// heap allocation of its own (the allocator was half of a catch-up's time),
// and Clear releases them all at once. Not copyable or movable (the events
// point into the arena).
struct EventChunk {
  EventChunk();
  ~EventChunk();
  EventChunk(const EventChunk&) = delete;
  EventChunk& operator=(const EventChunk&) = delete;

  // Empties the chunk and frees the memory of every event it held
  // (ReadChunk starts with it). `events` is a new field afterwards: drop
  // pointers into the old one.
  void Clear();

  // Declared before `events`, which it must outlive.
  std::unique_ptr<google::protobuf::Arena> arena;
  // Consecutive positions, ascending, each with hash and prev_hash set;
  // on `arena`.
  google::protobuf::RepeatedPtrField<v1::EventEnvelope> events;
  // The last event is the last of a commit (known for recent commits and
  // for the head) or, where no commit end is known in the chunk, of a
  // request (the next event carries another request id): a reader that
  // publishes its state only at such ends never shows half of a request.
  bool ends_commit = false;

  // With ChunkLimits::keep_stored_bytes: event i's bytes as stored, which
  // parse to events[i] once its hash and prev_hash are added, or empty
  // where reading changed the event (its sealed personal fields opened or
  // erased). A feed sends them as they are instead of encoding the event
  // again (services/src/feeds_service.cc).
  std::string_view StoredBytes(int i) const {
    if (static_cast<std::size_t>(i) >= stored_at.size()) return {};
    return std::string_view(stored).substr(stored_at[i].first, stored_at[i].second);
  }
  std::string stored;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> stored_at;  // (offset, size) in `stored`
};

struct ChunkLimits {
  std::size_t max_events = 1000;
  // Stored bytes; a chunk always holds at least one event.
  std::size_t max_bytes = 4u << 20;
  // Keep each event's stored bytes too (EventChunk::StoredBytes).
  bool keep_stored_bytes = false;
};

// One atomic write of a read model's state: its keyed entries and its
// checkpoint (position and blob) together, so that after a crash the keyed
// state and the position it reflects are always from the same write.
struct ReadModelWrite {
  // Remove every key of the read model before applying `puts` (a rebuild).
  bool clear = false;
  // Key (within the read model's own key space) and value; a value of
  // nullopt deletes the key. Applied in order.
  std::vector<std::pair<std::string, std::optional<std::string>>> puts;
  Position position = 0;
  // The read model's checkpoint blob (may be empty).
  std::string state;
};

// The keyed state of one read model, kept in the ledger's RocksDB beside the
// log (its own column family, keys prefixed by the read model's name), read
// and written without RocksDB types. Writes are not synced: the state is
// derived from the log and a lost tail is re-derived from the checkpoint
// position, which is written in the same batch. Thread-safe.
class ReadModelStore {
 public:
  virtual ~ReadModelStore() = default;
  // NOT_FOUND if absent.
  virtual absl::StatusOr<std::string> Get(std::string_view key) const = 0;
  // Entries whose key starts with `prefix`, in key order; `visit` returns
  // false to stop. Reads through one short-lived iterator: keep `visit` quick.
  virtual absl::Status Scan(
      std::string_view prefix,
      const std::function<bool(std::string_view key, std::string_view value)>& visit) const = 0;
  // As Scan, but from the first key >= `start` (which sorts at or after
  // `prefix`): a range inside one prefix without reading what comes before.
  virtual absl::Status ScanFrom(
      std::string_view prefix, std::string_view start,
      const std::function<bool(std::string_view key, std::string_view value)>& visit) const = 0;
  // The entries and the checkpoint, in one WriteBatch. The checkpoint is the
  // one Ledger::LoadCheckpoint(name) returns.
  virtual absl::Status Write(const ReadModelWrite& write) = 0;
};
class PowerLossSimulator;  // ledger/power_loss.h

struct LedgerOptions {
  std::string data_dir;
  // Sync the WAL before acknowledging a write. Only tests of other modules
  // may turn this off; the server never does.
  bool sync = true;
  // The one clock: recorded_at / amended_at, and the school-local "today"
  // and time of day that validation judges dates and sessions against.
  // Default: the system clock.
  Clock clock;
  // Marks with dates on or after this day are validated from memory; older
  // ones cost a RocksDB read. Default: the start of the previous academic
  // year (of the clock's local date).
  std::optional<Day> hot_from;
  // Open without a writer, for verification, inspection and tools: no
  // writer or committer thread starts, nothing is written to data_dir
  // (RocksDB's info log goes to the ledger's logger instead of LOG), and
  // every write method returns FAILED_PRECONDITION. Reads see the log as it
  // was at open. The directory may be a copy of a live one; the log is not
  // folded at open, so a ledger whose normal open is refused (a gap in the
  // log) still opens for VerifyChain to name the damage.
  bool read_only = false;
  // Tests only: file I/O through a simulated power cut (ledger/power_loss.h).
  // Not owned; must outlive the ledger.
  PowerLossSimulator* power_loss = nullptr;
  // Tests only: memtable bytes per column family (0: the defaults), and
  // compaction from two level-0 files, to make flushes and compactions
  // happen on little data.
  std::size_t memtable_bytes = 0;
  // RocksDB's memory, bounded (README, "Memory as the ledger grows"): one
  // LRU block cache shared by every column family, which also holds the
  // table files' index and filter blocks (left outside a cache they grow
  // with the data), and a budget for all memtables together, past which
  // the largest is flushed early. 0: the defaults below.
  std::size_t block_cache_bytes = 0;
  std::size_t write_buffer_budget_bytes = 0;
  static constexpr std::size_t kDefaultBlockCacheBytes = 64u << 20;
  static constexpr std::size_t kDefaultWriteBufferBudgetBytes = 128u << 20;
};

// What Ledger::VerifyIndexes compared, when every index agreed.
struct IndexVerification {
  Position events = 0;         // events read, positions 1..events
  std::uint64_t marks = 0;     // `marks` entries, each equal to a rebuild from the log
  std::uint64_t requests = 0;  // `requests` records, each matching the events it names
  std::uint64_t files = 0;     // table files whose every block checksum verified
};

// One backup in a backup directory (see ledger/backup.h).
struct BackupInfo {
  std::uint32_t id = 0;
  std::int64_t created_unix_s = 0;
  std::uint64_t size_bytes = 0;  // the files it uses, some shared with other backups
  std::uint32_t files = 0;
  // Every event acknowledged before the backup began is in it: its log is
  // 1..N for some N >= this.
  Position acknowledged_before = 0;
};

// The attendance ledger: an append-only, hash-chained event log in RocksDB
// with the indexes the service needs (current mark per session, events per
// pupil stream, request ids), and the commands that append to it.
//
// Every command validates its request against the current state, then
// appends all of its events in one atomic WriteBatch, synced before it
// returns. Concurrent commands are grouped by one writer thread so that one
// WAL sync covers many of them. A rejected command writes nothing and returns
// INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION or ABORTED
// with a message naming the field and value; storage failures are
// UNAVAILABLE / RESOURCE_EXHAUSTED / DATA_LOSS.
//
// Thread-safe: every method may be called from any thread.
class Ledger {
 public:
  static absl::StatusOr<std::unique_ptr<Ledger>> Open(LedgerOptions options);
  virtual ~Ledger() = default;

  virtual absl::StatusOr<v1::RecordMarksResponse> RecordMarks(
      const Principal& actor, const v1::RecordMarksRequest& request) = 0;
  // RecordMarks without waiting: `done` runs on the writer thread once the
  // batch is durable or rejected, and must be quick. Batches submitted one
  // after another from one thread are applied in that order, so a stream of
  // batches keeps its order while several of them share one WAL sync.
  virtual void RecordMarksAsync(
      Principal actor, v1::RecordMarksRequest request,
      std::function<void(absl::StatusOr<v1::RecordMarksResponse>)> done) = 0;

  // The single-event commands of ledger/command_table.h.
#define ATTENDANCE_DECLARE(Name, Request, Response, tag, access) \
  virtual absl::StatusOr<v1::Response> Name(const Principal& actor, const v1::Request& request) = 0;
  ATTENDANCE_LEDGER_COMMANDS(ATTENDANCE_DECLARE)
#undef ATTENDANCE_DECLARE

  // The position of the last acknowledged event (0 if the log is empty).
  virtual Position LastPosition() const = 0;

  // Calls `visit` for each event with position >= `from`, in order, up to
  // the last position committed when the call began. Reads in chunks
  // (ReadChunk), so a slow `visit` pins no snapshot: events are immutable
  // and never read past the committed head, so the chunks are consistent.
  // `visit` gets an envelope with hash and prev_hash set (copy what you
  // keep), and returns false to stop early. DATA_LOSS if a stored event
  // cannot be decoded or a position is missing.
  virtual absl::Status ForEachEvent(
      Position from, const std::function<bool(const v1::EventEnvelope&)>& visit) const = 0;

  // --- Following the log (tail) ---
  // Replaces `chunk` with committed events from `from` (0 = 1), at most
  // `limits` of them; empty when `from` is past the head. Errors as
  // ForEachEvent.
  virtual absl::Status ReadChunk(Position from, ChunkLimits limits, EventChunk& chunk) const = 0;

  // Blocks until the committed head is past `after` or `deadline` passes,
  // and returns the head. The commit path only publishes the new head and
  // wakes waiters; it never waits for a follower.
  virtual Position WaitForCommit(Position after,
                                 std::chrono::steady_clock::time_point deadline) const = 0;

  // Recomputes the hash chain over [from, to] (to = 0: the last event).
  // DATA_LOSS naming the first position that does not verify or is missing.
  virtual absl::Status VerifyChain(Position from, Position to) const = 0;

  // Durable state of a read model, stored beside the log so that a restart
  // resumes from `position` instead of position 1. NOT_FOUND if none saved.
  struct Checkpoint {
    Position position = 0;
    std::string state;
  };
  virtual absl::Status SaveCheckpoint(const std::string& name, const Checkpoint& checkpoint) = 0;
  virtual absl::StatusOr<Checkpoint> LoadCheckpoint(const std::string& name) const = 0;

  // Checks that every index agrees with the events, from one snapshot: the
  // `marks` index equals a rebuild from the MarkRecorded / MarkAmended
  // events (same keys, each with the last event's position and code), every
  // `requests` record decodes and names exactly the events that carry its
  // school and request id, every request id in the log has its record, and
  // every table file's block checksums verify. DATA_LOSS naming the column
  // family, the key (school / date / session / pupil, or school / request
  // id) and the positions of the first disagreement, in key order.
  virtual absl::StatusOr<IndexVerification> VerifyIndexes() const {
    return absl::UnimplementedError("VerifyIndexes");
  }

  // Takes a consistent backup into `backup_dir` (created if missing) while
  // writes continue: incremental (table files shared between backups) and
  // checksummed. FAILED_PRECONDITION when opened read-only; UNAVAILABLE /
  // RESOURCE_EXHAUSTED on storage errors. Restore with RestoreBackup
  // (ledger/backup.h).
  virtual absl::StatusOr<BackupInfo> CreateBackup(const std::string& backup_dir) {
    (void)backup_dir;
    return absl::UnimplementedError("CreateBackup");
  }
  // The keyed state of read model `name` (1 to 128 bytes, no NUL): its
  // checkpoint is the same as SaveCheckpoint(name)'s. INVALID_ARGUMENT for a
  // bad name. The store must not outlive the ledger.
  virtual absl::StatusOr<std::unique_ptr<ReadModelStore>> OpenReadModelStore(
      const std::string& name) = 0;
};

// One follower of the log: reads what is stored from a position in bounded
// chunks, then follows new commits as they become durable. Any number of
// LogTails may follow one ledger at once, each at its own pace; a stalled
// follower holds only the chunk it was last given, and never slows the
// writer. Not thread-safe (one per follower); the ledger must outlive it.
class LogTail {
 public:
  LogTail(const Ledger& ledger, Position from, ChunkLimits limits = {});

  // Replaces `chunk` with the next events: at once if events at or after
  // next_position() are stored, else waits for a commit until `deadline`
  // (then `chunk` may be empty). Errors as Ledger::ForEachEvent; after an
  // error the tail stays where it was, so Next may be retried.
  absl::Status Next(std::chrono::steady_clock::time_point deadline, EventChunk& chunk);

  Position next_position() const { return next_; }

 private:
  const Ledger& ledger_;
  Position next_;
  ChunkLimits limits_;
};

}  // namespace attendance::ledger
