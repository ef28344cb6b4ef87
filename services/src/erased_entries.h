#pragma once

// Retention (ADR 0003) in the keyed read models: when a pupil's personal
// data is erased, the events the read models keep for it are rewritten
// without their personal fields, in the same write as the position of the
// erasure, so that neither the keyed state nor a checkpoint holds them.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "ledger/ledger.h"

namespace attendance::services {

// A read model's writes not yet in its store (key, value or delete).
using PendingPuts = std::vector<std::pair<std::string, std::optional<std::string>>>;

// Rewrites every stored event value under `prefix`, in the store and in
// `pending`, without personal fields (projections::ErasedEventValue).
absl::Status EraseUnderPrefix(const ledger::ReadModelStore& store, std::string_view prefix,
                              PendingPuts& pending);

// The same for the listed keys; keys that are absent are skipped.
absl::Status EraseKeys(const ledger::ReadModelStore& store, const std::vector<std::string>& keys,
                       PendingPuts& pending);

// Every (key, value) under `prefix`, pending writes applied over the store.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ScanWithPending(
    const ledger::ReadModelStore& store, std::string_view prefix, const PendingPuts& pending);

}  // namespace attendance::services
