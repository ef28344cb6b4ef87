#include "services/escalation_read_model.h"

#include "absl/strings/str_cat.h"

namespace attendance::services {

void EscalationReadModel::Reset() {
  lock_.reset();
  live_->Replace(projections::EscalationState());
}

absl::Status EscalationReadModel::Restore(const ledger::Ledger::Checkpoint& checkpoint) {
  lock_.reset();
  absl::StatusOr<projections::EscalationState> state =
      projections::EscalationState::Decode(checkpoint.state);
  if (!state.ok()) return state.status();
  if (state->position() != checkpoint.position) {
    return absl::DataLossError(absl::StrCat("state at position ", state->position(),
                                            ", checkpoint at ", checkpoint.position));
  }
  live_->Replace(std::move(*state));
  return absl::OkStatus();
}

absl::Status EscalationReadModel::Apply(const v1::EventEnvelope& event) {
  if (!lock_) lock_.emplace(*live_);
  lock_->Apply(event);
  return absl::OkStatus();
}

absl::Status EscalationReadModel::Encode(ledger::ReadModelWrite& write) {
  lock_.reset();
  write.state =
      live_->Read([](const projections::EscalationState& state) { return state.Encode(); });
  return absl::OkStatus();
}

}  // namespace attendance::services
