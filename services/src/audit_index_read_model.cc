#include "services/audit_index_read_model.h"

namespace attendance::services {

void AuditIndexReadModel::Reset() {
  pending_.clear();
  position_ = 0;
}

absl::Status AuditIndexReadModel::Restore(const ledger::Ledger::Checkpoint& checkpoint) {
  // The keyed state was written in the same batch as this position.
  pending_.clear();
  position_ = checkpoint.position;
  return absl::OkStatus();
}

absl::Status AuditIndexReadModel::Apply(const v1::EventEnvelope& event) {
  for (auto& [key, value] : projections::AuditIndexPuts(event)) {
    pending_.emplace_back(std::move(key), std::move(value));
  }
  position_.store(event.position(), std::memory_order_release);
  return absl::OkStatus();
}

absl::Status AuditIndexReadModel::Encode(ledger::ReadModelWrite& write) {
  write.puts = pending_;
  return absl::OkStatus();
}

absl::Status AuditIndexReadModel::Scan(
    std::string_view prefix, std::string_view start,
    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  return store_->ScanFrom(prefix, start, visit);
}

}  // namespace attendance::services
