#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "projections/mark_history.h"
#include "services/read_model.h"

namespace attendance::services {

// The history of every register session (projections/mark_history.h) as a
// read model whose state is keyed, on disk, in the ledger's read-model key
// space: millions of entries, no blob. Entries are buffered between
// checkpoints and written with the position in one batch, so after a crash
// the keys and the position agree. It reads_from_store(), so the host
// writes it at every publish and History, which reads what is written, is
// current at every published position. No gRPC for it yet (the audit issue
// adds it).
class MarkHistoryReadModel final : public ReadModel {
 public:
  static constexpr const char* kName = "audit.mark_history.v1";

  explicit MarkHistoryReadModel(std::string name = kName) : name_(std::move(name)) {}

  const std::string& name() const override { return name_; }
  ledger::Position position() const override { return position_.load(std::memory_order_acquire); }
  void Attach(ledger::ReadModelStore* store) override { store_ = store; }
  void Reset() override;
  absl::Status Restore(const ledger::Ledger::Checkpoint& checkpoint) override;
  absl::Status Apply(const v1::EventEnvelope& event) override;
  absl::Status Encode(ledger::ReadModelWrite& write) override;
  void Saved() override { pending_.clear(); }
  bool reads_from_store() const override { return true; }

  // One session's first mark and amendments in log order, as of the last
  // checkpoint. Thread-safe. DATA_LOSS for an undecodable entry.
  absl::StatusOr<std::vector<projections::MarkHistoryEntry>> History(std::string_view school,
                                                                     std::string_view pupil,
                                                                     ledger::Day day,
                                                                     v1::Session session) const;
  // One pupil's entries of sessions dated first..last, in date, session,
  // log order; `visit` returns false to stop. Thread-safe.
  absl::Status ScanPupil(std::string_view school, std::string_view pupil, ledger::Day first,
                         ledger::Day last,
                         const std::function<bool(std::string_view value)>& visit) const;
  // Every stored (key, value) in key order, for comparing with a rebuild.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Dump() const;

 private:
  std::string name_;
  ledger::ReadModelStore* store_ = nullptr;
  std::atomic<ledger::Position> position_{0};
  std::vector<std::pair<std::string, std::optional<std::string>>> pending_;
};

}  // namespace attendance::services
