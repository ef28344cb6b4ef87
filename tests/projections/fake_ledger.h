#pragma once

// An in-memory ledger::Ledger for runner tests: the log is a vector the test
// appends to; commands are not implemented (projection tests do not write
// through the ledger's validation).
#include <map>
#include <mutex>
#include <vector>

#include "ledger/ledger.h"

namespace attendance::projections::testing {

class FakeLedger final : public ledger::Ledger {
 public:
  // Appends (positions are reassigned to stay gapless) and calls the commit
  // listener, as the real ledger's writer thread would.
  void Append(const std::vector<v1::EventEnvelope>& events) {
    std::function<void(ledger::Position)> listener;
    {
      std::lock_guard lock(mu_);
      for (v1::EventEnvelope e : events) {
        e.set_position(log_.size() + 1);
        log_.push_back(std::move(e));
      }
      listener = listener_;
    }
    if (listener) listener(LastPosition());
  }

  std::vector<ledger::Position> read_from() const {
    std::lock_guard lock(mu_);
    return read_from_;
  }

  ledger::Position LastPosition() const override {
    std::lock_guard lock(mu_);
    return log_.size();
  }
  absl::Status ForEachEvent(
      ledger::Position from,
      const std::function<bool(const v1::EventEnvelope&)>& visit) const override {
    std::vector<v1::EventEnvelope> snapshot;
    {
      std::lock_guard lock(mu_);
      read_from_.push_back(from);
      if (from == 0) from = 1;
      if (from <= log_.size())
        snapshot.assign(log_.begin() + static_cast<long>(from - 1), log_.end());
    }
    for (const v1::EventEnvelope& e : snapshot) {
      if (!visit(e)) break;
    }
    return absl::OkStatus();
  }
  void SetCommitListener(std::function<void(ledger::Position)> listener) override {
    std::lock_guard lock(mu_);
    listener_ = std::move(listener);
  }
  absl::Status SaveCheckpoint(const std::string& name, const Checkpoint& checkpoint) override {
    std::lock_guard lock(mu_);
    checkpoints_[name] = checkpoint;
    return absl::OkStatus();
  }
  absl::StatusOr<Checkpoint> LoadCheckpoint(const std::string& name) const override {
    std::lock_guard lock(mu_);
    auto it = checkpoints_.find(name);
    if (it == checkpoints_.end()) return absl::NotFoundError(name);
    return it->second;
  }
  void CorruptCheckpoint(const std::string& name) {
    std::lock_guard lock(mu_);
    checkpoints_[name].state = "garbage";
  }

  absl::Status VerifyChain(ledger::Position, ledger::Position) const override {
    return absl::OkStatus();
  }
#define ATTENDANCE_FAKE_UNIMPLEMENTED(Method, Request, Response)                               \
  absl::StatusOr<v1::Response> Method(const ledger::Principal&, const v1::Request&) override { \
    return absl::UnimplementedError(#Method);                                                  \
  }
  ATTENDANCE_FAKE_UNIMPLEMENTED(RecordMarks, RecordMarksRequest, RecordMarksResponse)
  ATTENDANCE_FAKE_UNIMPLEMENTED(AmendMark, AmendMarkRequest, AmendMarkResponse)
  ATTENDANCE_FAKE_UNIMPLEMENTED(RecordLetter, RecordLetterRequest, WriteResponse)
  ATTENDANCE_FAKE_UNIMPLEMENTED(EnrolPupil, EnrolPupilRequest, WriteResponse)
  ATTENDANCE_FAKE_UNIMPLEMENTED(UpdatePupil, UpdatePupilRequest, WriteResponse)
  ATTENDANCE_FAKE_UNIMPLEMENTED(RemoveFromRoll, RemoveFromRollRequest, WriteResponse)
  ATTENDANCE_FAKE_UNIMPLEMENTED(SetSchoolCalendar, SetSchoolCalendarRequest, WriteResponse)
  ATTENDANCE_FAKE_UNIMPLEMENTED(SetSchoolSettings, SetSchoolSettingsRequest, WriteResponse)
#undef ATTENDANCE_FAKE_UNIMPLEMENTED
  void RecordMarksAsync(
      ledger::Principal, v1::RecordMarksRequest,
      std::function<void(absl::StatusOr<v1::RecordMarksResponse>)> done) override {
    done(absl::UnimplementedError("RecordMarksAsync"));
  }

 private:
  mutable std::mutex mu_;
  std::vector<v1::EventEnvelope> log_;
  mutable std::vector<ledger::Position> read_from_;
  std::function<void(ledger::Position)> listener_;
  std::map<std::string, Checkpoint> checkpoints_;
};

}  // namespace attendance::projections::testing
