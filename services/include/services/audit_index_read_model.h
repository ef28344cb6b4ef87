#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "projections/audit_index.h"
#include "services/read_model.h"
#include "services/school_roll_cache.h"

namespace attendance::services {

// The audit trail's indexes (projections/audit_index.h: amendments by time
// and by session date, registers, pupils' current year group and class) as
// a read model with keyed state, written at every publish like
// MarkHistoryReadModel, so a query reads what is published. Thread-safe
// readers; the host feeds it from one thread.
class AuditIndexReadModel final : public ReadModel {
 public:
  // v2: a recorded action is on the timeline at its happened_on (v1: the
  // day it was recorded); a v1 index is left alone and this one rebuilt.
  static constexpr const char* kName = "audit.index.v2";

  explicit AuditIndexReadModel(std::string name = kName) : name_(std::move(name)) {}

  const std::string& name() const override { return name_; }
  ledger::Position position() const override { return position_.load(std::memory_order_acquire); }
  void Attach(ledger::ReadModelStore* store) override { store_ = store; }
  void Reset() override;
  absl::Status Restore(const ledger::Ledger::Checkpoint& checkpoint) override;
  absl::Status Apply(const v1::EventEnvelope& event) override;
  absl::Status Encode(ledger::ReadModelWrite& write) override;
  void Saved() override;
  bool reads_from_store() const override { return true; }

  // Entries with keys in [start, prefix's end), in key order; `visit`
  // returns false to stop. Reads through the store's short-lived iterators.
  absl::Status Scan(
      std::string_view prefix, std::string_view start,
      const std::function<bool(std::string_view key, std::string_view value)>& visit) const;
  // The stored value of `key`; NOT_FOUND if absent.
  absl::StatusOr<std::string> Get(std::string_view key) const { return store_->Get(key); }
  // Every pupil the school has had ('P' entries: current year group and
  // class), decoded once and kept until an enrolment or detail change of
  // the school is written (school_roll_cache.h).
  absl::StatusOr<SchoolRollCache::RollPtr> SchoolRoll(std::string_view school) const;
  SchoolRollCache::Stats roll_cache_stats() const { return roll_cache_.stats(); }

 private:
  std::string name_;
  // Rewrites the pupil's entries without personal fields (ADR 0003).
  absl::Status Erase(const std::string& school, const std::string& pupil);

  ledger::ReadModelStore* store_ = nullptr;
  std::atomic<ledger::Position> position_{0};
  std::vector<std::pair<std::string, std::optional<std::string>>> pending_;
  // Schools whose 'P' entries pending_ changes: their kept rolls go once
  // it is written.
  std::vector<std::string> roll_changed_;
  mutable SchoolRollCache roll_cache_;
};

}  // namespace attendance::services
