#pragma once

#include <optional>
#include <string>

#include "projections/live_escalation.h"
#include "services/read_model.h"

namespace attendance::services {

// The escalation state (projections::LiveEscalation) as a read model on the
// host, beside the attendance figures: every school's policy history and
// every pupil's letters and actions, with the marks, calendars and settings they are
// evaluated against. Its checkpoint is EscalationState::Encode.
class EscalationReadModel final : public ReadModel {
 public:
  // v2: the checkpoint holds actions (ActionRecorded) too; a v1 checkpoint
  // is not read, so the state is rebuilt from the log.
  static constexpr const char* kName = "projections.escalation.v2";

  explicit EscalationReadModel(projections::LiveEscalation* live, std::string name = kName)
      : live_(live), name_(std::move(name)) {}

  const std::string& name() const override { return name_; }
  ledger::Position position() const override { return live_->position(); }
  void Reset() override;
  absl::Status Restore(const ledger::Ledger::Checkpoint& checkpoint) override;
  absl::Status Apply(const v1::EventEnvelope& event) override;
  void Publish() override { lock_.reset(); }
  absl::Status Encode(ledger::ReadModelWrite& write) override;

 private:
  projections::LiveEscalation* live_;
  std::string name_;
  std::optional<projections::LiveEscalation::WriteLock> lock_;
};

}  // namespace attendance::services
