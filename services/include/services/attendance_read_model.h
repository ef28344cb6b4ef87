#pragma once

#include <optional>
#include <string>

#include "projections/live_attendance.h"
#include "services/read_model.h"

namespace attendance::services {

// The attendance figures (projections::LiveAttendance) as a read model: its
// checkpoint is AttendanceState::Encode. Between Publish calls it holds the
// LiveAttendance's exclusive lock, so queries see whole commits only.
class AttendanceReadModel final : public ReadModel {
 public:
  static constexpr const char* kName = "projections.attendance.v1";

  explicit AttendanceReadModel(projections::LiveAttendance* live, std::string name = kName)
      : live_(live), name_(std::move(name)) {}

  const std::string& name() const override { return name_; }
  ledger::Position position() const override { return live_->position(); }
  void Reset() override;
  absl::Status Restore(const ledger::Ledger::Checkpoint& checkpoint) override;
  absl::Status Apply(const v1::EventEnvelope& event) override;
  void Publish() override { lock_.reset(); }
  absl::Status Encode(ledger::ReadModelWrite& write) override;

 private:
  projections::LiveAttendance* live_;
  std::string name_;
  std::optional<projections::LiveAttendance::WriteLock> lock_;
};

}  // namespace attendance::services
