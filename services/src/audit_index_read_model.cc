#include "services/audit_index_read_model.h"

#include "erased_entries.h"

namespace attendance::services {

void AuditIndexReadModel::Reset() {
  pending_.clear();
  roll_changed_.clear();
  roll_cache_.Clear();
  position_ = 0;
}

absl::Status AuditIndexReadModel::Restore(const ledger::Ledger::Checkpoint& checkpoint) {
  // The keyed state was written in the same batch as this position.
  pending_.clear();
  roll_changed_.clear();
  roll_cache_.Clear();
  position_ = checkpoint.position;
  return absl::OkStatus();
}

absl::Status AuditIndexReadModel::Apply(const v1::EventEnvelope& event) {
  if (event.has_personal_data_erased() && store_ != nullptr) {
    if (absl::Status s = Erase(event.school_id(), event.pupil_id()); !s.ok()) return s;
  }
  if ((event.has_pupil_enrolled() || event.has_pupil_updated()) &&
      (roll_changed_.empty() || roll_changed_.back() != event.school_id())) {
    roll_changed_.push_back(event.school_id());
  }
  for (auto& [key, value] : projections::AuditIndexPuts(event)) {
    pending_.emplace_back(std::move(key), std::move(value));
  }
  position_.store(event.position(), std::memory_order_release);
  return absl::OkStatus();
}

absl::Status AuditIndexReadModel::Erase(const std::string& school, const std::string& pupil) {
  // The timeline's entries are keyed by pupil; marks and amendments are
  // keyed by register, time and date, so the 'E' entries list them.
  if (absl::Status s =
          EraseUnderPrefix(*store_, projections::PupilEventPrefix(school, pupil), pending_);
      !s.ok()) {
    return s;
  }
  auto listed = ScanWithPending(*store_, projections::ErasablePrefix(school, pupil), pending_);
  if (!listed.ok()) return listed.status();
  for (const auto& [key, value] : *listed) {
    if (absl::Status s = EraseKeys(*store_, projections::ErasableKeys(value), pending_); !s.ok()) {
      return s;
    }
    pending_.emplace_back(key, std::nullopt);
  }
  return absl::OkStatus();
}

absl::Status AuditIndexReadModel::Encode(ledger::ReadModelWrite& write) {
  write.puts = pending_;
  return absl::OkStatus();
}

void AuditIndexReadModel::Saved() {
  pending_.clear();
  // Written, not yet published: a reader that waits for this position
  // finds the roll gone and decodes the written one.
  for (const std::string& school : roll_changed_) roll_cache_.Invalidate(school);
  roll_changed_.clear();
}

absl::StatusOr<SchoolRollCache::RollPtr> AuditIndexReadModel::SchoolRoll(
    std::string_view school) const {
  SchoolRollCache::Found found = roll_cache_.Find(school);
  if (found.roll != nullptr) return found.roll;
  auto roll = std::make_shared<SchoolRollCache::Roll>();
  v1::Pupil pupil;
  bool undecodable = false;
  const std::string prefix =
      projections::AuditSchoolPrefix(projections::AuditIndex::kPupil, school);
  absl::Status s = store_->Scan(prefix, [&](std::string_view, std::string_view value) {
    if (!pupil.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      undecodable = true;
      return false;
    }
    (*roll)[pupil.pupil_id()] = {pupil.year_group(), pupil.class_name()};
    return true;
  });
  if (!s.ok()) return s;
  if (undecodable) return absl::DataLossError("audit index: undecodable pupil entry");
  roll_cache_.Insert(school, found.generation, roll);
  return SchoolRollCache::RollPtr(std::move(roll));
}

absl::Status AuditIndexReadModel::Scan(
    std::string_view prefix, std::string_view start,
    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  return store_->ScanFrom(prefix, start, visit);
}

}  // namespace attendance::services
