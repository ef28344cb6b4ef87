#include "services/mark_history_read_model.h"

#include "erased_entries.h"

namespace attendance::services {

void MarkHistoryReadModel::Reset() {
  pending_.clear();
  position_ = 0;
}

absl::Status MarkHistoryReadModel::Restore(const ledger::Ledger::Checkpoint& checkpoint) {
  // The keyed state was written in the same batch as this position.
  pending_.clear();
  position_ = checkpoint.position;
  return absl::OkStatus();
}

absl::Status MarkHistoryReadModel::Apply(const v1::EventEnvelope& event) {
  if (event.has_personal_data_erased() && store_ != nullptr) {
    if (absl::Status s = EraseUnderPrefix(
            *store_, projections::MarkHistoryPupilPrefix(event.school_id(), event.pupil_id()),
            pending_);
        !s.ok()) {
      return s;
    }
  }
  if (auto put = projections::MarkHistoryPut(event)) {
    pending_.emplace_back(std::move(put->first), std::move(put->second));
  }
  position_.store(event.position(), std::memory_order_release);
  return absl::OkStatus();
}

absl::Status MarkHistoryReadModel::Encode(ledger::ReadModelWrite& write) {
  write.puts = pending_;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<projections::MarkHistoryEntry>> MarkHistoryReadModel::History(
    std::string_view school, std::string_view pupil, ledger::Day day, v1::Session session) const {
  std::vector<projections::MarkHistoryEntry> entries;
  absl::Status decode_error;
  absl::Status s = store_->Scan(projections::MarkHistorySessionKey(school, pupil, day, session),
                                [&](std::string_view, std::string_view value) {
                                  auto entry = projections::DecodeMarkHistoryEntry(value);
                                  if (!entry.ok()) {
                                    decode_error = entry.status();
                                    return false;
                                  }
                                  entries.push_back(std::move(*entry));
                                  return true;
                                });
  if (!s.ok()) return s;
  if (!decode_error.ok()) return decode_error;
  return entries;
}

absl::Status MarkHistoryReadModel::ScanPupil(
    std::string_view school, std::string_view pupil, ledger::Day first, ledger::Day last,
    const std::function<bool(std::string_view value)>& visit) const {
  // Session 0 sorts before AM and PM: the first key of a day.
  const std::string start =
      projections::MarkHistorySessionKey(school, pupil, first, v1::SESSION_UNSPECIFIED);
  const std::string end =
      projections::MarkHistorySessionKey(school, pupil, last + 1, v1::SESSION_UNSPECIFIED);
  const std::string prefix = start.substr(0, start.size() - 5);  // less day(4), session(1)
  return store_->ScanFrom(prefix, start, [&](std::string_view key, std::string_view value) {
    return key < end && visit(value);
  });
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> MarkHistoryReadModel::Dump()
    const {
  std::vector<std::pair<std::string, std::string>> all;
  absl::Status s = store_->Scan("", [&](std::string_view key, std::string_view value) {
    all.emplace_back(std::string(key), std::string(value));
    return true;
  });
  if (!s.ok()) return s;
  return all;
}

}  // namespace attendance::services
