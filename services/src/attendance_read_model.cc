#include "services/attendance_read_model.h"

#include "absl/strings/str_cat.h"

namespace attendance::services {

void AttendanceReadModel::Reset() {
  lock_.reset();
  live_->Replace(projections::AttendanceState());
}

absl::Status AttendanceReadModel::Restore(const ledger::Ledger::Checkpoint& checkpoint) {
  lock_.reset();
  absl::StatusOr<projections::AttendanceState> state =
      projections::AttendanceState::Decode(checkpoint.state);
  if (!state.ok()) return state.status();
  if (state->position() != checkpoint.position) {
    return absl::DataLossError(absl::StrCat("state at position ", state->position(),
                                            ", checkpoint at ", checkpoint.position));
  }
  live_->Replace(std::move(*state));
  return absl::OkStatus();
}

absl::Status AttendanceReadModel::Apply(const v1::EventEnvelope& event) {
  if (!lock_) lock_.emplace(*live_);
  lock_->Apply(event);
  return absl::OkStatus();
}

absl::Status AttendanceReadModel::Encode(ledger::ReadModelWrite& write) {
  lock_.reset();
  write.state =
      live_->Read([](const projections::AttendanceState& state) { return state.Encode(); });
  return absl::OkStatus();
}

}  // namespace attendance::services
