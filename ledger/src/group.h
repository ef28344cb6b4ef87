#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "absl/container/flat_hash_map.h"
#include "attendance/v1/events.pb.h"
#include "hot_state.h"
#include "ledger/types.h"
#include "personal_keys.h"

namespace attendance::ledger {

struct ColumnFamilies {
  rocksdb::ColumnFamilyHandle* events = nullptr;
  rocksdb::ColumnFamilyHandle* marks = nullptr;
  rocksdb::ColumnFamilyHandle* requests = nullptr;
  rocksdb::ColumnFamilyHandle* checkpoints = nullptr;
  // Null when a read-only open finds a ledger older than retention.
  rocksdb::ColumnFamilyHandle* pupil_keys = nullptr;
};

inline constexpr std::size_t kHashSize = 32;

// SHA-256 over prev_hash || body, with a context of its own: hot loops
// (a commit group, a chain check) keep one hasher rather than pay for a
// context per event. Not thread-local, so that a ledger closed from an exit
// handler, after the thread's locals are gone, still hashes.
class ChainHasher {
 public:
  ChainHasher();
  ~ChainHasher();
  ChainHasher(const ChainHasher&) = delete;
  ChainHasher& operator=(const ChainHasher&) = delete;

  std::string operator()(std::string_view prev_hash, std::string_view body);

 private:
  struct Context;
  Context* context_;
};

// One hash with a hasher of its own, for the places that hash once.
std::string ChainHash(std::string_view prev_hash, std::string_view body);

// The events of one commit group: the writer thread fills one WriteBatch
// with every accepted command it drained, then syncs it once. Appending an
// event assigns its position and hash, writes the log and index entries into
// the batch and applies it to the hot state, so that later commands in the
// same group see it.
class Group {
 public:
  Group(HotState& state, const ColumnFamilies& cf, PersonalKeys& keys, std::string prev_hash,
        std::int64_t now_us)
      : state_(state), cf_(cf), keys_(keys), prev_hash_(std::move(prev_hash)), now_us_(now_us) {}

  // `event` carries school_id, pupil_id, stream_version and the payload;
  // the rest is filled here, and its personal fields are sealed with the
  // pupil's key (ADR 0003), so `event` is left as stored. Returns the
  // event's position.
  Position Append(v1::EventEnvelope& event, const Principal& actor, const std::string& request_id);

  // Deletes the pupil's key in this group's batch (an erasure); the
  // committer then flushes and compacts the keys away (ErasedKeys).
  void ErasePersonalKey(const std::string& school_id, const std::string& pupil_id);
  bool erased_keys() const { return erased_keys_; }

  // Adds the group's index entries to the batch, sorted per column family:
  // the memtable's skiplist inserts a sorted run of neighbouring keys far
  // faster than the same keys in arrival order.
  void Seal();

  std::int64_t now_us() const { return now_us_; }
  rocksdb::WriteBatch& batch() { return batch_; }
  const std::string& prev_hash() const { return prev_hash_; }
  bool empty() const { return appended_ == 0; }
  std::size_t appended() const { return appended_; }

  // Marks older than the hot window that this group wrote: the writer looks
  // here before it reads RocksDB, since the batch is not yet in the DB.
  absl::flat_hash_map<std::string, std::string>& pending_cold_marks() { return pending_cold_; }

 private:
  HotState& state_;
  ChainHasher hasher_;
  const ColumnFamilies& cf_;
  PersonalKeys& keys_;
  bool erased_keys_ = false;
  std::string prev_hash_;
  std::int64_t now_us_;
  rocksdb::WriteBatch batch_;
  std::size_t appended_ = 0;
  std::string body_;
  absl::flat_hash_map<std::string, std::string> pending_cold_;
  std::vector<std::pair<std::string, std::string>> mark_entries_;
};

}  // namespace attendance::ledger
