// LogTail: a follower of the log on top of Ledger::ReadChunk and
// Ledger::WaitForCommit, so it works on any Ledger.
#include "ledger/ledger.h"

namespace attendance::ledger {

LogTail::LogTail(const Ledger& ledger, Position from, ChunkLimits limits)
    : ledger_(ledger), next_(from == 0 ? 1 : from), limits_(limits) {}

absl::Status LogTail::Next(std::chrono::steady_clock::time_point deadline, EventChunk& chunk) {
  if (ledger_.LastPosition() < next_) ledger_.WaitForCommit(next_ - 1, deadline);
  if (absl::Status s = ledger_.ReadChunk(next_, limits_, chunk); !s.ok()) return s;
  if (!chunk.events.empty()) next_ = chunk.events.rbegin()->position() + 1;
  return absl::OkStatus();
}

}  // namespace attendance::ledger
