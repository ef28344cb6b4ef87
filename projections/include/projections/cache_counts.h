#pragma once

// The bookkeeping the read models' kept-result caches share
// (EscalationResultCache here, SchoolRollCache in services/): what they
// count, so their stats read alike, and the least recently used entry.
// Header-only, standard library and Abseil only, so services/ (which links
// projections) and projections itself use it without a new dependency.
#include <cstdint>
#include <string_view>

#include "absl/strings/string_view.h"

namespace attendance::projections {

// A cache's counters. hits / misses: lookups answered from the cache or
// not; invalidated: entries an event made stale; evicted: entries dropped
// for room.
struct CacheCounts {
  std::uint64_t hits = 0, misses = 0, invalidated = 0, evicted = 0;
};

// Debian's Abseil has its own string_view, which its string hash takes.
inline absl::string_view AbslView(std::string_view s) { return {s.data(), s.size()}; }

// The entry of `entries` (a map) whose `last_used(value)` tick is the
// least, or entries.end() if it is empty. O(entries): for caches of a few
// hundred entries, evicted seldom.
template <typename Map, typename LastUsed>
typename Map::iterator LeastRecentlyUsed(Map& entries, LastUsed last_used) {
  auto oldest = entries.end();
  for (auto it = entries.begin(); it != entries.end(); ++it) {
    if (oldest == entries.end() || last_used(it->second) < last_used(oldest->second)) oldest = it;
  }
  return oldest;
}

}  // namespace attendance::projections
