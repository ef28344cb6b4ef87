#pragma once

// Schools' rolls as the audit index's 'P' entries hold them (every pupil a
// school has had: current year group and class), kept decoded between
// GetRegisterAsOf calls (issue 8: a whole register p99 < 10 ms on three
// years), so a call looks its lines up instead of decoding every pupil.
//
// A school's roll changes only with an enrolment or a detail change, so
// AuditIndexReadModel drops the school's roll once such an event is in its
// store (Saved), before the host publishes the position: a reader that
// waited for that position decodes the new roll. A roll decoded from the
// store while an invalidation happened is not kept (the generation moved),
// so a stale roll is never kept past the write that changed it.
//
// Bounded: at most kMaxPupils pupils over all kept schools; past it the
// least recently used schools are dropped, and a larger school is not kept
// at all (answered from the store each time). Thread-safe.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "projections/cache_counts.h"

namespace attendance::services {

class SchoolRollCache {
 public:
  // About 100 bytes a pupil: 10 MB.
  static constexpr std::size_t kMaxPupils = 100'000;

  struct Details {
    std::int32_t year_group = 0;
    std::string class_name;
  };
  // Pupil id -> details.
  using Roll = absl::flat_hash_map<std::string, Details>;
  using RollPtr = std::shared_ptr<const Roll>;

  // The kept roll of the school (null if none), and the generation to give
  // Insert when the caller decodes it itself.
  struct Found {
    RollPtr roll;
    std::uint64_t generation = 0;
  };
  Found Find(std::string_view school_id);
  // Keeps `roll` unless an invalidation came after Find gave `generation`
  // (or it is larger than kMaxPupils).
  void Insert(std::string_view school_id, std::uint64_t generation, RollPtr roll);
  void Invalidate(std::string_view school_id);
  void Clear();

  struct Stats : projections::CacheCounts {
    std::size_t schools = 0, pupils = 0;
  };
  Stats stats() const;

 private:
  struct Kept {
    RollPtr roll;
    std::uint64_t last_used = 0;
  };
  void EvictLocked(std::size_t room);

  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, Kept> schools_;
  std::uint64_t generation_ = 0;
  std::uint64_t tick_ = 0;
  std::size_t pupils_ = 0;
  Stats stats_;
};

}  // namespace attendance::services
