#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "attendance/v1/events.pb.h"
#include "attendance/v1/ledger_service.pb.h"
#include "ledger/types.h"

namespace attendance::ledger {

class PowerLossSimulator;  // ledger/power_loss.h

struct LedgerOptions {
  std::string data_dir;
  // Sync the WAL before acknowledging a write. Only tests of other modules
  // may turn this off; the server never does.
  bool sync = true;
  // Clock for recorded_at / amended_at, microseconds since the epoch.
  // Default: the system clock.
  std::function<std::int64_t()> now_us;
  // Marks with dates on or after this day are validated from memory; older
  // ones cost a RocksDB read. Default: the start of the previous academic year.
  std::optional<Day> hot_from;
  // Tests only: file I/O through a simulated power cut (ledger/power_loss.h).
  // Not owned; must outlive the ledger.
  PowerLossSimulator* power_loss = nullptr;
  // Tests only: memtable bytes per column family (0: the defaults), and
  // compaction from two level-0 files, to make flushes and compactions
  // happen on little data.
  std::size_t memtable_bytes = 0;
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

  virtual absl::StatusOr<v1::AmendMarkResponse> AmendMark(const Principal& actor,
                                                          const v1::AmendMarkRequest& request) = 0;
  virtual absl::StatusOr<v1::WriteResponse> RecordLetter(
      const Principal& actor, const v1::RecordLetterRequest& request) = 0;
  virtual absl::StatusOr<v1::WriteResponse> EnrolPupil(const Principal& actor,
                                                       const v1::EnrolPupilRequest& request) = 0;
  virtual absl::StatusOr<v1::WriteResponse> UpdatePupil(const Principal& actor,
                                                        const v1::UpdatePupilRequest& request) = 0;
  virtual absl::StatusOr<v1::WriteResponse> RemoveFromRoll(
      const Principal& actor, const v1::RemoveFromRollRequest& request) = 0;
  virtual absl::StatusOr<v1::WriteResponse> SetSchoolCalendar(
      const Principal& actor, const v1::SetSchoolCalendarRequest& request) = 0;
  virtual absl::StatusOr<v1::WriteResponse> SetSchoolSettings(
      const Principal& actor, const v1::SetSchoolSettingsRequest& request) = 0;

  // The position of the last acknowledged event (0 if the log is empty).
  virtual Position LastPosition() const = 0;

  // Calls `visit` for each event with position >= `from`, in order, up to
  // the last position committed when the call began, from one consistent
  // snapshot. `visit` gets a reused envelope (copy what you keep) with hash
  // and prev_hash set, and returns false to stop early. DATA_LOSS if a stored
  // event cannot be decoded.
  virtual absl::Status ForEachEvent(
      Position from, const std::function<bool(const v1::EventEnvelope&)>& visit) const = 0;

  // Recomputes the hash chain over [from, to] (to = 0: the last event).
  // DATA_LOSS naming the first position that does not verify or is missing.
  virtual absl::Status VerifyChain(Position from, Position to) const = 0;

  // Called on the writer thread after each durable commit with the last
  // position written. Must be quick (signal another thread, do not read).
  virtual void SetCommitListener(std::function<void(Position)> listener) = 0;

  // Durable state of a read model, stored beside the log so that a restart
  // resumes from `position` instead of position 1. NOT_FOUND if none saved.
  struct Checkpoint {
    Position position = 0;
    std::string state;
  };
  virtual absl::Status SaveCheckpoint(const std::string& name, const Checkpoint& checkpoint) = 0;
  virtual absl::StatusOr<Checkpoint> LoadCheckpoint(const std::string& name) const = 0;
};

}  // namespace attendance::ledger
