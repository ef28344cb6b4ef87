#pragma once

// Per-pupil keys for the personal fields of stored events (ADR 0003,
// retention by crypto-shredding). Each pupil's personal fields
// (ledger/personal_data.h) are sealed into EventEnvelope.sealed_personal
// with AES-256-GCM under a key of its own, which lives in the `pupil_keys`
// column family, outside the hashed log. Deleting the key is the erasure:
// the ciphertext stays in the log, so the chain still verifies, but no one
// can read it any more.

#include <shared_mutex>
#include <string>
#include <string_view>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "attendance/v1/events.pb.h"

namespace attendance::ledger {

// The keys in memory, mirroring the column family. Sealing and erasing run
// on the writer thread and put their changes into its batch; opening runs
// on any reader's thread. Thread-safe.
class PersonalKeys {
 public:
  // Replaces the keys in memory with those stored in `family`.
  absl::Status Load(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family);

  // Moves the event's personal fields (if any) into sealed_personal,
  // encrypted under its pupil's key; a pupil without one gets a new key,
  // written to `batch` with the event. `event` has its position set: the
  // school, pupil and position are the cipher's associated data, so sealed
  // bytes moved to another event do not open.
  absl::Status Seal(v1::EventEnvelope& event, rocksdb::WriteBatch& batch,
                    rocksdb::ColumnFamilyHandle* family);

  // Restores the sealed fields of an event read from the log and clears
  // sealed_personal; if the pupil's key was erased, leaves the fields empty
  // and sets personal_erased. DATA_LOSS if the key exists but the sealed
  // bytes do not open (they were changed).
  absl::Status Open(v1::EventEnvelope& event) const;

  // Deletes the pupil's key: from memory now, from disk with `batch`.
  void Erase(std::string_view school, std::string_view pupil, rocksdb::WriteBatch& batch,
             rocksdb::ColumnFamilyHandle* family);

 private:
  mutable std::shared_mutex mu_;
  absl::flat_hash_map<std::string, std::string> keys_;  // keys::PupilKey -> key
};

}  // namespace attendance::ledger
