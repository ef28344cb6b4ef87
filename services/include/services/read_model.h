#pragma once

#include <string>

#include "absl/status/status.h"
#include "attendance/v1/events.pb.h"
#include "ledger/ledger.h"

namespace attendance::services {

// A read model fed from the log by a ReadModelHost: a fold with a name, a
// position and a checkpoint. The host calls every method from one thread at
// a time (the read model's own feeding thread); readers of the model's state
// are the model's business (see AttendanceReadModel's lock).
class ReadModel {
 public:
  virtual ~ReadModel() = default;

  // Stable and unique on one ledger: it names the checkpoint and the keyed
  // state. Changing what the checkpoint means needs a new name (or version).
  virtual const std::string& name() const = 0;

  // The last position applied (0: none). Not what readers see: that is
  // what the host published (a keyed model's entries are written only at
  // its publish), so a query with min_position asks ReadModelHost::WaitFor.
  virtual ledger::Position position() const = 0;

  // Given its keyed state before anything else, if the model keeps any.
  virtual void Attach(ledger::ReadModelStore* /*store*/) {}

  // Back to position 0, before a rebuild from position 1. The host clears
  // the model's keyed state in the same write as the reset checkpoint.
  virtual void Reset() = 0;

  // Restores the state saved at `checkpoint.position`. An error (e.g.
  // DATA_LOSS for bytes it cannot decode) makes the host Reset and rebuild.
  virtual absl::Status Restore(const ledger::Ledger::Checkpoint& checkpoint) = 0;

  // Applies the event at position() + 1. An error stops this read model
  // (reported by name); the others and the ledger's writes go on.
  virtual absl::Status Apply(const v1::EventEnvelope& event) = 0;

  // Called at a commit end after a run of Apply calls: make the applied
  // events visible to readers together (a reader never sees half a request).
  virtual void Publish() {}

  // Fills `write` with the checkpoint at position() (blob and/or the keyed
  // entries changed since the last Encode); the host writes it in one batch
  // with the position. Called after Publish.
  virtual absl::Status Encode(ledger::ReadModelWrite& write) = 0;

  // True when readers read the model's keyed state rather than memory: the
  // host then publishes only positions whose checkpoint write succeeded.
  virtual bool reads_from_store() const { return false; }

  // The write of the last Encode is durable in the ledger's store (it is
  // not when a write fails: the next Encode must then cover it again).
  virtual void Saved() {}
};

}  // namespace attendance::services
