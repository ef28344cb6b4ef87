#pragma once

// Writes a generated history (history.h) to a ledger, through the ledger's
// own commands (the registers through ImportHistory), so it passes the same
// validation as a client's data.
#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "history/history.h"
#include "ledger/clock.h"
#include "ledger/ledger.h"

namespace attendance::history {

// A clock the loader steers: while a step is applied it reads the step's
// source time, so recorded_at_us is when the school's system recorded it
// (an import's, when it was sent: its marks and amendments carry their own
// taken_at_us and amended_at_us) and "as of" a past date shows the register
// as it stood then; otherwise it reads `base`. Give Clock() to the ledger
// (LedgerOptions::clock) before loading. Thread-safe.
class SourceClock {
 public:
  explicit SourceClock(ledger::Clock base = ledger::Clock());
  ledger::Clock Clock() const;
  void Set(std::int64_t at_us) { state_->at_us.store(at_us); }
  void Release() { state_->at_us.store(0); }

 private:
  struct State {
    ledger::Clock base;
    std::atomic<std::int64_t> at_us{0};
  };
  std::shared_ptr<State> state_;
};

struct LoadStats {
  std::uint64_t steps = 0;
  std::uint64_t imports = 0;  // ImportHistory requests
  std::uint64_t marks = 0;
  std::uint64_t amendments = 0;
  std::uint64_t letters = 0;
  std::uint64_t actions = 0;
  std::uint64_t pupils = 0;  // enrolments
};

// Generates the history and applies each step in order. With `clock` (the
// one the ledger was opened with), each step is recorded at its source
// time; without, at the ledger clock's now (which must then be after the
// history: an import refuses source times in the future). Request ids are
// deterministic, so loading again is a no-op and a later `until` adds only
// the days since (the days cut before are caught up mark by mark: their
// open N codes amended through AmendMark). Errors: the options'
// (GenerateHistory), or the first command the ledger rejects, with its code
// and a message prefixed by its request id.
absl::StatusOr<LoadStats> LoadHistory(ledger::Ledger& ledger, const HistoryOptions& options,
                                      SourceClock* clock);

}  // namespace attendance::history
