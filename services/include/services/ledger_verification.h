#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "absl/status/statusor.h"
#include "attendance/v1/audit_service.pb.h"
#include "ledger/ledger.h"

namespace attendance::services {

// Verifies the hash chain over [from, to] (0, 0: the whole log as it is at
// the call) on a live ledger while writes go on: Ledger::VerifyChain, which
// recomputes SHA-256(previous stored hash || stored bytes) for every event,
// in runs of `every` events, each under its own short-lived snapshot.
// `progress` is called after every run but the last (return false to
// stop: CANCELLED). The last message (done set) is the result: a chain
// that fails is ok false, result_code "DATA_LOSS" and the first failing
// position, not an error. With `head`, also checks its signature under
// `public_key` (raw 32 bytes; empty: not checked) and that the log holds
// its hash at its position, inside the verified range.
//
// Errors: INVALID_ARGUMENT for a range past the head or reversed;
// UNAVAILABLE and the like from storage; CANCELLED.
absl::StatusOr<v1::VerifyLedgerProgress> VerifyLedgerRange(
    const ledger::Ledger& ledger, ledger::Position from, ledger::Position to, std::uint64_t every,
    const v1::SignedHead* head, std::string_view public_key,
    const std::function<bool(const v1::VerifyLedgerProgress&)>& progress);

// The stored chain hash at `position`; NOT_FOUND past the head.
absl::StatusOr<std::string> HashAt(const ledger::Ledger& ledger, ledger::Position position);

}  // namespace attendance::services
