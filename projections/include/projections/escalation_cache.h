#pragma once

// Per-pupil evaluations kept between worklist calls (issue 7: the worklist
// for a day p99 < 20 ms on 2,000 pupils). An evaluation is a pure function
// of the pupil's facts (marks, roll, details, letters, actions,
// amendments), the school's (calendar, settings, policies), the as-of date
// and, on that date, which registers have closed; so a result is kept under
// (school, pupil, as_of, register bucket, policy position, due_only,
// explain) and dropped when the fold applies an event that can change it:
// an event on the pupil's stream drops that pupil's results, a school-level
// event (calendar, settings, policy) every result of the school.
//
// Thread-safe: queries under the LiveState's shared lock call Find and
// Insert concurrently; Invalidate runs under its exclusive lock, so no
// query is between its Find and Insert while an event is applied.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "attendance/v1/escalation_service.pb.h"
#include "attendance/v1/events.pb.h"
#include "ledger/types.h"
#include "projections/attendance_state.h"

namespace attendance::projections {

class EscalationResultCache {
 public:
  // The bound on memory: the kept results' size as protobuf counts it
  // (SpaceUsedLong). Past it the least recently used half is dropped. 64 MiB
  // holds about 10 dates of a 2,000-pupil school's worklist.
  static constexpr std::size_t kDefaultMaxBytes = std::size_t{64} << 20;

  // What a result depends on besides the pupil's and the school's facts.
  struct Key {
    Day as_of = 0;
    int register_bucket = 0;  // RegisterBucket of the as-of minute
    ledger::Position policy_position = 0;
    bool due_only = false;
    bool explain = true;  // EscalationInputs::explain
    bool operator==(const Key&) const = default;
  };
  using Result = std::shared_ptr<const v1::PupilEscalation>;

  EscalationResultCache() = default;
  // A cache is not state: a copy or a moved-to state starts empty.
  EscalationResultCache(const EscalationResultCache&) {}
  EscalationResultCache(EscalationResultCache&&) noexcept {}
  EscalationResultCache& operator=(const EscalationResultCache&);
  EscalationResultCache& operator=(EscalationResultCache&&) noexcept;

  // The result kept for the key, or null.
  Result Find(std::string_view school_id, std::string_view pupil_id, const Key& key);
  // Keeps `result` (unless disabled) and returns it.
  Result Insert(std::string_view school_id, std::string_view pupil_id, const Key& key,
                v1::PupilEscalation result);
  // Drops what `event` can change. Call before (or after) the fold applies
  // it, under the same exclusive lock.
  void Invalidate(const v1::EventEnvelope& event);
  void Clear();

  // Off: Find misses and Insert keeps nothing (the uncached answer, for
  // tests and the benchmark's cold figures).
  void set_enabled(bool enabled);
  void set_max_bytes(std::size_t max_bytes);

  struct Stats {
    // invalidated: results made stale by an event (counted once each).
    std::uint64_t hits = 0, misses = 0, invalidated = 0, evicted = 0;
    std::size_t entries = 0, bytes = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    Key key;
    Result result;
    std::size_t bytes = 0;
    std::uint64_t last_used = 0;
  };
  // A pupil's results; `stale` once an event for the pupil was applied. The
  // fold only sets the flag: freeing the results (a few thousand protobuf
  // allocations for a busy pupil) is left to the query that replaces them,
  // so that invalidation costs the fold a lookup per event.
  struct PupilEntries {
    std::vector<Entry> entries;
    bool stale = false;
  };
  using Pupils = absl::flat_hash_map<std::string, PupilEntries>;

  void DropPupil(Pupils& pupils, std::string_view pupil_id);
  void FreeLocked(PupilEntries& pupil);
  void DropSchool(std::string_view school_id);
  void EvictLocked();

  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, Pupils> schools_;
  bool enabled_ = true;
  std::size_t max_bytes_ = kDefaultMaxBytes;
  std::uint64_t tick_ = 0;
  Stats stats_;
};

// Which registers of the as-of date have closed by `minute`: bit 0 the
// morning's, bit 1 the afternoon's (each open through its close minute,
// 23:59 with no close time, as the ledger takes marks). Evaluations at two minutes of one
// bucket are equal: the time of day matters only to register not taken.
int RegisterBucket(const v1::SchoolSettings& settings, int minute);

}  // namespace attendance::projections
