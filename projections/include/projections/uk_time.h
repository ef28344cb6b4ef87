#pragma once

#include <cstdint>

#include "ledger/types.h"

namespace attendance::projections {

// The civil date in England (GMT, or BST from 01:00 UTC on the last Sunday of
// March to 01:00 UTC on the last Sunday of October) of an instant in
// microseconds since the Unix epoch. "As of the end of date D" means every
// event recorded on a UK-local date <= D.
ledger::Day UkLocalDay(std::int64_t micros_since_epoch);

}  // namespace attendance::projections
