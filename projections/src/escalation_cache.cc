// Per-pupil evaluations kept between worklist calls (escalation_cache.h).
#include "projections/escalation_cache.h"

#include <algorithm>
#include <utility>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

#include "ledger/types.h"
#include "projections/cache_counts.h"
#include "projections/escalation.h"

namespace attendance::projections {
namespace {

// The pupil a payload names (its pupil_id field), if it has one: the fold
// reads it before the envelope's, so a payload naming another pupil than
// its stream changes that pupil. Found by reflection so that an event
// added later is covered without a change here.
std::string_view PayloadPupilId(const v1::EventEnvelope& event, std::string* scratch) {
  if (event.has_mark_recorded()) return event.mark_recorded().pupil_id();  // most of the log
  const google::protobuf::Reflection* reflection = event.GetReflection();
  const google::protobuf::OneofDescriptor* payload =
      v1::EventEnvelope::descriptor()->FindOneofByName("payload");
  if (payload == nullptr) return {};
  const google::protobuf::FieldDescriptor* field =
      reflection->GetOneofFieldDescriptor(event, payload);
  if (field == nullptr || field->type() != google::protobuf::FieldDescriptor::TYPE_MESSAGE) {
    return {};
  }
  const google::protobuf::Message& message = reflection->GetMessage(event, field);
  const google::protobuf::FieldDescriptor* pupil_id =
      message.GetDescriptor()->FindFieldByName("pupil_id");
  if (pupil_id == nullptr || pupil_id->is_repeated() ||
      pupil_id->type() != google::protobuf::FieldDescriptor::TYPE_STRING) {
    return {};
  }
  return message.GetReflection()->GetStringReference(message, pupil_id, scratch);
}

}  // namespace

EscalationResultCache& EscalationResultCache::operator=(const EscalationResultCache& other) {
  if (this != &other) Clear();
  return *this;
}

EscalationResultCache& EscalationResultCache::operator=(EscalationResultCache&& other) noexcept {
  if (this != &other) Clear();
  return *this;
}

EscalationResultCache::Result EscalationResultCache::Find(std::string_view school_id,
                                                          std::string_view pupil_id,
                                                          const Key& key) {
  std::lock_guard lock(mu_);
  if (!enabled_) return nullptr;
  auto school = schools_.find(AbslView(school_id));
  if (school != schools_.end()) {
    auto pupil = school->second.find(AbslView(pupil_id));
    if (pupil != school->second.end() && !pupil->second.stale) {
      for (Entry& e : pupil->second.entries) {
        if (e.key == key) {
          e.last_used = ++tick_;
          ++stats_.hits;
          return e.result;
        }
      }
    }
  }
  ++stats_.misses;
  return nullptr;
}

EscalationResultCache::Result EscalationResultCache::Insert(std::string_view school_id,
                                                            std::string_view pupil_id,
                                                            const Key& key,
                                                            v1::PupilEscalation result) {
  // Measured outside the lock: it walks the whole message.
  const std::size_t bytes = result.SpaceUsedLong() + sizeof(Entry);
  auto kept = std::make_shared<const v1::PupilEscalation>(std::move(result));
  std::lock_guard lock(mu_);
  if (!enabled_) return kept;
  PupilEntries& pupil = schools_[std::string(school_id)][std::string(pupil_id)];
  if (pupil.stale) FreeLocked(pupil);
  std::vector<Entry>& entries = pupil.entries;
  for (Entry& e : entries) {
    if (e.key == key) {  // another query got here first: keep one
      e.last_used = ++tick_;
      return e.result;
    }
  }
  entries.push_back({key, kept, bytes, ++tick_});
  ++stats_.entries;
  stats_.bytes += bytes;
  if (stats_.bytes > max_bytes_) EvictLocked();
  return kept;
}

void EscalationResultCache::FreeLocked(PupilEntries& pupil) {
  for (const Entry& e : pupil.entries) stats_.bytes -= e.bytes;
  stats_.entries -= pupil.entries.size();
  pupil.entries.clear();
  pupil.stale = false;
}

void EscalationResultCache::DropPupil(Pupils& pupils, std::string_view pupil_id) {
  auto it = pupils.find(AbslView(pupil_id));
  if (it == pupils.end() || it->second.stale) return;
  it->second.stale = true;
  stats_.invalidated += it->second.entries.size();
}

void EscalationResultCache::DropSchool(std::string_view school_id) {
  auto it = schools_.find(AbslView(school_id));
  if (it == schools_.end()) return;
  for (auto& [pupil, entries] : it->second) {
    if (!entries.stale) stats_.invalidated += entries.entries.size();
    FreeLocked(entries);
  }
  schools_.erase(it);
}

void EscalationResultCache::Invalidate(const v1::EventEnvelope& event) {
  std::lock_guard lock(mu_);
  if (stats_.entries == 0) return;
  if (event.school_id().empty()) {  // not expected; drop everything rather than guess
    while (!schools_.empty()) DropSchool(schools_.begin()->first);
    return;
  }
  auto school = schools_.find(event.school_id());
  if (school == schools_.end()) return;
  if (event.pupil_id().empty()) {  // the school's stream: calendar, settings, policy
    DropSchool(event.school_id());
    return;
  }
  DropPupil(school->second, event.pupil_id());
  std::string scratch;
  const std::string_view named = PayloadPupilId(event, &scratch);
  if (!named.empty() && named != event.pupil_id()) DropPupil(school->second, named);
}

void EscalationResultCache::Clear() {
  std::lock_guard lock(mu_);
  schools_.clear();
  stats_.entries = 0;
  stats_.bytes = 0;
}

void EscalationResultCache::set_enabled(bool enabled) {
  std::lock_guard lock(mu_);
  enabled_ = enabled;
}

void EscalationResultCache::set_max_bytes(std::size_t max_bytes) {
  std::lock_guard lock(mu_);
  max_bytes_ = max_bytes;
  if (stats_.bytes > max_bytes_) EvictLocked();
}

EscalationResultCache::Stats EscalationResultCache::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

// Drops the least recently used half (by last use), so that eviction costs
// O(entries) once per half-full turn rather than on every insert.
void EscalationResultCache::EvictLocked() {
  std::vector<std::uint64_t> ticks;
  ticks.reserve(stats_.entries);
  for (const auto& [school, pupils] : schools_) {
    for (const auto& [pupil, entries] : pupils) {
      for (const Entry& e : entries.entries) ticks.push_back(e.last_used);
    }
  }
  if (ticks.empty()) return;
  auto middle = ticks.begin() + static_cast<std::ptrdiff_t>(ticks.size() / 2);
  std::nth_element(ticks.begin(), middle, ticks.end());
  const std::uint64_t cut = *middle;
  for (auto school = schools_.begin(); school != schools_.end();) {
    Pupils& pupils = school->second;
    for (auto pupil = pupils.begin(); pupil != pupils.end();) {
      std::vector<Entry>& entries = pupil->second.entries;
      // A stale pupil's results go whole: none will be read again.
      auto keep = pupil->second.stale
                      ? entries.begin()
                      : std::partition(entries.begin(), entries.end(),
                                       [&](const Entry& e) { return e.last_used >= cut; });
      for (auto e = keep; e != entries.end(); ++e) {
        stats_.bytes -= e->bytes;
        --stats_.entries;
        ++stats_.evicted;
      }
      entries.erase(keep, entries.end());
      if (entries.empty()) {
        pupils.erase(pupil++);
      } else {
        ++pupil;
      }
    }
    if (pupils.empty()) {
      schools_.erase(school++);
    } else {
      ++school;
    }
  }
}

int RegisterBucket(const v1::SchoolSettings& settings, int minute) {
  const int am = ledger::ParseTimeOfDay(settings.am_register_closes()).value_or(kEndOfDay - 1);
  const int pm = ledger::ParseTimeOfDay(settings.pm_register_closes()).value_or(kEndOfDay - 1);
  return (minute > am ? 1 : 0) | (minute > pm ? 2 : 0);
}

}  // namespace attendance::projections
