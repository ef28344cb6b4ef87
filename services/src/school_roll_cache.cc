#include "services/school_roll_cache.h"

#include <utility>

namespace attendance::services {

using projections::AbslView;

SchoolRollCache::Found SchoolRollCache::Find(std::string_view school_id) {
  std::lock_guard lock(mu_);
  auto kept = schools_.find(AbslView(school_id));
  if (kept == schools_.end()) {
    ++stats_.misses;
    return {nullptr, generation_};
  }
  ++stats_.hits;
  kept->second.last_used = ++tick_;
  return {kept->second.roll, generation_};
}

void SchoolRollCache::Insert(std::string_view school_id, std::uint64_t generation, RollPtr roll) {
  std::lock_guard lock(mu_);
  if (generation != generation_ || roll == nullptr || roll->size() > kMaxPupils) return;
  if (auto kept = schools_.find(AbslView(school_id)); kept != schools_.end()) {
    pupils_ -= kept->second.roll->size();
    schools_.erase(kept);
  }
  EvictLocked(roll->size());
  pupils_ += roll->size();
  schools_[AbslView(school_id)] = {std::move(roll), ++tick_};
}

void SchoolRollCache::EvictLocked(std::size_t room) {
  while (pupils_ + room > kMaxPupils) {
    auto oldest =
        projections::LeastRecentlyUsed(schools_, [](const Kept& kept) { return kept.last_used; });
    if (oldest == schools_.end()) return;
    pupils_ -= oldest->second.roll->size();
    schools_.erase(oldest);
    ++stats_.evicted;
  }
}

void SchoolRollCache::Invalidate(std::string_view school_id) {
  std::lock_guard lock(mu_);
  ++generation_;
  auto kept = schools_.find(AbslView(school_id));
  if (kept == schools_.end()) return;
  pupils_ -= kept->second.roll->size();
  schools_.erase(kept);
  ++stats_.invalidated;
}

void SchoolRollCache::Clear() {
  std::lock_guard lock(mu_);
  ++generation_;
  schools_.clear();
  pupils_ = 0;
}

SchoolRollCache::Stats SchoolRollCache::stats() const {
  std::lock_guard lock(mu_);
  Stats stats = stats_;
  stats.schools = schools_.size();
  stats.pupils = pupils_;
  return stats;
}

}  // namespace attendance::services
