// EventChunk: events decoded into one arena per chunk.
#include <new>

#include "ledger/ledger.h"

namespace attendance::ledger {
namespace {

// A chunk of 1,000 marks takes about 600 kB: blocks of 64 kB keep the
// arena's own allocations to a few per chunk, below glibc's mmap threshold.
google::protobuf::ArenaOptions ChunkArenaOptions() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = 16u << 10;
  options.max_block_size = 64u << 10;
  return options;
}

}  // namespace

EventChunk::EventChunk()
    : arena(std::make_unique<google::protobuf::Arena>(ChunkArenaOptions())), events(arena.get()) {}

EventChunk::~EventChunk() = default;

void EventChunk::Clear() {
  ends_commit = false;
  stored.clear();
  stored_at.clear();
  // Cleared arena messages keep their memory, and a cleared oneof's
  // message stays in the arena until it is reset: a chunk read again and
  // again (a LogTail's) would grow without bound. So the field goes, the
  // arena is reset, and a new field starts on it.
  using Events = google::protobuf::RepeatedPtrField<v1::EventEnvelope>;
  events.~Events();
  arena->Reset();
  new (&events) Events(arena.get());
}

}  // namespace attendance::ledger
