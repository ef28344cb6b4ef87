#pragma once

#include <cstddef>
#include <vector>

#include "ledger/ledger.h"

namespace attendance::testing {

// Writes registers concurrently, as several classroom clients would: writer
// w records one session at a time for pupils p(w*pupils_per_writer+1)...,
// every school session of the 2025 calendar from `first` to `last` (by
// default 2025-09-03 to 2025-10-08, before LedgerFixture's clock), `codes`
// in turn. The pupils must
// be enrolled in year 7 (LedgerFixture(writers * pupils_per_writer)).
// Returns the number of marks recorded; every batch must succeed.
std::size_t WriteRegistersConcurrently(ledger::Ledger& ledger, int writers, int pupils_per_writer,
                                       const std::vector<const char*>& codes = {"/", "N", "\\"},
                                       const char* first = "2025-09-03",
                                       const char* last = "2025-10-08");

}  // namespace attendance::testing
