// Reading the RocksDB-backed Ledger's log: in order and gap-checked
// (ScanEvents), in chunks for followers (tail.cc), and verified.
#include "event_reader.h"

#include <algorithm>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "chain_check.h"
#include "keys.h"
#include "rocks_ledger.h"
#include "rocks_status.h"
#include "verify_indexes.h"

namespace attendance::ledger {
namespace {

// Events read through one RocksDB iterator by ForEachEvent: bounds how long
// one iterator (and the memtables it pins) lives while its reader works.
constexpr Position kEventsPerIterator = 1000;

// EventChunk::StoredBytes. Opening an event's sealed personal fields
// changes it: it has none.
void KeepStoredBytes(const v1::EventEnvelope& event, std::string_view body, EventChunk& chunk) {
  const bool as_stored = event.sealed_personal().empty();
  chunk.stored_at.emplace_back(static_cast<std::uint32_t>(chunk.stored.size()),
                               as_stored ? static_cast<std::uint32_t>(body.size()) : 0);
  if (as_stored) chunk.stored.append(body);
}

}  // namespace

absl::Status ScanEvents(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* events,
                        const rocksdb::Snapshot* snapshot, Position from, Position to,
                        const ScanFn& fn) {
  rocksdb::ReadOptions read;
  read.snapshot = snapshot;
  std::string prev_hash;
  if (from > 1) {
    std::string value;
    if (auto s = FromRocks(db.Get(read, events, keys::Event(from - 1), &value),
                           absl::StrCat("read position ", from - 1));
        !s.ok()) {
      return absl::IsNotFound(s) ? absl::DataLossError(absl::StrCat("position ", from - 1,
                                                                    " is missing from the log"))
                                 : s;
    }
    if (value.size() < kHashSize) {
      return absl::DataLossError(absl::StrCat("position ", from - 1, ": truncated"));
    }
    prev_hash = value.substr(0, kHashSize);
  }
  const std::string upper = keys::Event(to + 1);
  rocksdb::Slice upper_slice(upper);
  read.iterate_upper_bound = &upper_slice;
  // Read ahead about what the range holds (events are ~150-300 bytes), up
  // to 2 MB: chunked readers open one iterator per 1,000 events.
  read.readahead_size = static_cast<std::size_t>(
      std::min<Position>(2u << 20, std::max<Position>(64u << 10, (to - from + 1) * 512)));
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(read, events));
  Position expected = from;
  for (it->Seek(keys::Event(from)); it->Valid(); it->Next()) {
    const Position position = keys::GetFixed64(it->key().ToStringView());
    if (position != expected) {
      return absl::DataLossError(
          absl::StrCat("position ", expected, " is missing from the log (next is ", position, ")"));
    }
    const std::string_view value = it->value().ToStringView();
    if (value.size() < kHashSize) {
      return absl::DataLossError(absl::StrCat("position ", position, ": truncated"));
    }
    const std::string_view hash = value.substr(0, kHashSize);
    if (auto s = fn(position, hash, prev_hash, value.substr(kHashSize)); !s.ok()) {
      if (absl::IsDataLoss(s) && s.message().find("position") == std::string_view::npos) {
        return absl::DataLossError(absl::StrCat("position ", position, ": ", s.message()));
      }
      return s;
    }
    prev_hash.assign(hash.data(), hash.size());
    ++expected;
  }
  if (auto s = FromRocks(it->status(), "scan events"); !s.ok()) return s;
  if (expected != to + 1) {
    return absl::DataLossError(absl::StrCat("position ", expected, " is missing from the log"));
  }
  return absl::OkStatus();
}

// No snapshot: events are immutable and reads never go past the committed
// head, so each chunk's short-lived iterator sees the same bytes a
// snapshot would, and a slow reader pins no memtable.
absl::Status RocksLedger::ForEachEvent(
    Position from, const std::function<bool(const v1::EventEnvelope&)>& visit) const {
  const Position last = LastPosition();
  if (from == 0) from = 1;
  v1::EventEnvelope envelope;
  while (from <= last) {
    const Position to = std::min(last, from + kEventsPerIterator - 1);
    absl::Status status =
        Scan(nullptr, from, to,
             [&](Position, std::string_view hash, std::string_view prev_hash,
                 std::string_view body) -> absl::Status {
               envelope.Clear();
               if (!envelope.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
                 return absl::DataLossError("undecodable event");
               }
               envelope.set_hash(hash.data(), hash.size());
               envelope.set_prev_hash(prev_hash.data(), prev_hash.size());
               if (auto s = personal_keys_.Open(envelope); !s.ok()) return s;
               return visit(envelope) ? absl::OkStatus() : absl::CancelledError();
             });
    if (absl::IsCancelled(status)) return absl::OkStatus();
    if (!status.ok()) return status;
    from = to + 1;
  }
  return absl::OkStatus();
}

namespace {

bool SameRequest(const v1::EventEnvelope& a, const v1::EventEnvelope& b) {
  return a.request_id() == b.request_id() && a.school_id() == b.school_id();
}

}  // namespace

// The index in `events` of the last event known to end a request, or -1.
// A request's events are consecutive and all carry its id, so a request
// ends where the next event carries another (school, request id), unless
// both carry none (two requests without ids cannot be told apart). The
// event after the chunk is read to judge its last event.
int RocksLedger::LastRequestEnd(const google::protobuf::RepeatedPtrField<v1::EventEnvelope>& events,
                                Position last) const {
  v1::EventEnvelope next;
  bool have_next = false;
  Scan(nullptr, last + 1, last + 1,
       [&](Position, std::string_view, std::string_view, std::string_view body) {
         have_next = next.ParseFromArray(body.data(), static_cast<int>(body.size()));
         return absl::OkStatus();
       })
      .IgnoreError();
  auto ends_between = [](const v1::EventEnvelope& a, const v1::EventEnvelope& b) {
    return !(a.request_id().empty() && b.request_id().empty()) && !SameRequest(a, b);
  };
  const int size = events.size();
  if (have_next && ends_between(events[size - 1], next)) return size - 1;
  for (int i = size - 2; i >= 0; --i) {
    if (ends_between(events[i], events[i + 1])) return i;
  }
  return -1;
}

absl::Status RocksLedger::ReadChunk(Position from, ChunkLimits limits, EventChunk& chunk) const {
  chunk.Clear();
  const Position head = LastPosition();
  if (from == 0) from = 1;
  if (from > head) return absl::OkStatus();
  const Position to =
      std::min<Position>(head, from + std::max<std::size_t>(limits.max_events, 1) - 1);
  std::size_t bytes = 0;
  absl::Status status =
      Scan(nullptr, from, to,
           [&](Position, std::string_view hash, std::string_view prev_hash,
               std::string_view body) -> absl::Status {
             if (!chunk.events.empty() && bytes + body.size() > limits.max_bytes) {
               return absl::CancelledError();
             }
             bytes += body.size();
             v1::EventEnvelope* envelope = chunk.events.Add();
             if (!envelope->ParseFromArray(body.data(), static_cast<int>(body.size()))) {
               return absl::DataLossError("undecodable event");
             }
             if (limits.keep_stored_bytes) KeepStoredBytes(*envelope, body, chunk);
             envelope->set_hash(hash.data(), hash.size());
             envelope->set_prev_hash(prev_hash.data(), prev_hash.size());
             return personal_keys_.Open(*envelope);
           });
  if (!status.ok() && !absl::IsCancelled(status)) {
    chunk.Clear();
    return status;
  }
  // End the chunk where a commit ends if one is known inside it, so that
  // readers who publish at chunk ends never show half of a request.
  const Position last = chunk.events.rbegin()->position();
  if (last == head) {
    chunk.ends_commit = true;
  } else if (const Position cut = commit_signal_.LastKnownEndIn(from, last); cut != 0) {
    while (chunk.events.rbegin()->position() > cut) chunk.events.RemoveLast();
    chunk.ends_commit = true;
  } else if (const int cut_at = LastRequestEnd(chunk.events, last); cut_at >= 0) {
    // Too old for a known commit end (a reader catching up, or after a
    // restart): the end of a request will do, else its readers could not
    // publish, and would hold everything read, until they reach the head.
    while (chunk.events.size() > cut_at + 1) chunk.events.RemoveLast();
    chunk.ends_commit = true;
  }
  if (chunk.stored_at.size() > static_cast<std::size_t>(chunk.events.size())) {
    chunk.stored_at.resize(chunk.events.size());
    chunk.stored.resize(chunk.stored_at.back().first + chunk.stored_at.back().second);
  }
  return absl::OkStatus();
}

Position RocksLedger::WaitForCommit(Position after,
                                    std::chrono::steady_clock::time_point deadline) const {
  commit_signal_.Wait(deadline, [&] { return LastPosition() > after; });
  return LastPosition();
}

absl::Status RocksLedger::VerifyChain(Position from, Position to) const {
  const Position last = LastPosition();
  if (from == 0) from = 1;
  if (to == 0 || to > last) to = last;
  if (from > to) return absl::OkStatus();
  const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
  // Read here, hash elsewhere: an event's hash needs only the previous
  // event's stored hash, which the read gives, so hashing runs on other
  // threads beside the read and the first bad position stays exact.
  // Only the position field of each event is read, not the whole event
  // (every reader of the log decodes anyway, and VerifyIndexes reads every
  // event).
  const int hashers =
      static_cast<int>(std::clamp<unsigned>(std::thread::hardware_concurrency(), 2, 3) - 1);
  ParallelChainCheck check(hashers);
  absl::Status status = Scan(snapshot, from, to,
                             [&](Position position, std::string_view hash,
                                 std::string_view prev_hash, std::string_view body) {
                               check.Add(position, prev_hash, hash, body);
                               // Stop reading: Finish names the first bad one.
                               return check.failed() ? absl::CancelledError() : absl::OkStatus();
                             });
  const absl::Status hashed = check.Finish();
  db_->ReleaseSnapshot(snapshot);
  // A bad hash comes before any position the read could not get past.
  if (!hashed.ok()) return hashed;
  return status;
}

absl::StatusOr<IndexVerification> RocksLedger::VerifyIndexes() const {
  return VerifyLedgerIndexes(*db_, cf_);
}

}  // namespace attendance::ledger
