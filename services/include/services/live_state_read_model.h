#pragma once

#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "projections/live_state.h"
#include "services/read_model.h"

namespace attendance::services {

// A projection kept whole in memory (projections::LiveState) as a read model
// on the host: its checkpoint is State::Encode, restored by State::Decode.
// Between Publish calls it holds the LiveState's exclusive lock, so queries
// see whole commits only.
template <typename State>
class LiveStateReadModel : public ReadModel {
 public:
  LiveStateReadModel(projections::LiveState<State>* live, std::string name)
      : live_(live), name_(std::move(name)) {}

  const std::string& name() const override { return name_; }
  ledger::Position position() const override { return live_->position(); }

  void Reset() override {
    lock_.reset();
    live_->Replace(State());
  }

  absl::Status Restore(const ledger::Ledger::Checkpoint& checkpoint) override {
    lock_.reset();
    absl::StatusOr<State> state = State::Decode(checkpoint.state);
    if (!state.ok()) return state.status();
    if (state->position() != checkpoint.position) {
      return absl::DataLossError(absl::StrCat("state at position ", state->position(),
                                              ", checkpoint at ", checkpoint.position));
    }
    live_->Replace(std::move(*state));
    return absl::OkStatus();
  }

  absl::Status Apply(const v1::EventEnvelope& event) override {
    if (!lock_) lock_.emplace(*live_);
    lock_->Apply(event);
    return absl::OkStatus();
  }

  void Publish() override { lock_.reset(); }

  absl::Status Encode(ledger::ReadModelWrite& write) override {
    lock_.reset();
    write.state = live_->Read([](const State& state) { return state.Encode(); });
    return absl::OkStatus();
  }

 private:
  projections::LiveState<State>* live_;
  std::string name_;
  std::optional<typename projections::LiveState<State>::WriteLock> lock_;
};

}  // namespace attendance::services
