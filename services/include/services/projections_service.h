#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <functional>

#include "attendance/v1/projections_service.grpc.pb.h"
#include "ledger/clock.h"
#include "projections/live_attendance.h"
#include "services/authenticator.h"

namespace attendance::services {

// attendance.v1.Projections: attendance figures read from the live
// projection (projections::LiveAttendance, kept current by a
// services::ReadModelHost through AttendanceReadModel). Handlers only
// parse, query under the projection's shared lock, and map statuses: the work is in
// projections/attendance_queries.h. Reads never block ledger writes.
//
// Status codes: INVALID_ARGUMENT naming the field and value; NOT_FOUND for
// an unknown school or pupil; UNAUTHENTICATED / PERMISSION_DENIED from the
// authenticator; for a request with min_position the projection has not
// reached in time, DEADLINE_EXCEEDED or UNAVAILABLE "read model N at
// position X, asked for Y". Thread-safe.
class ProjectionsServiceImpl final : public v1::Projections::Service {
 public:
  // `clock` gives "today" (the school-local date in England) for requests
  // without as_of: the same clock the ledger validates with. `auth`: who may
  // read (default: local mode, every caller an admin). `live` must outlive
  // the service.
  //
  // `wait_for` blocks until the projection has published a position or a
  // deadline passes (ReadModelHost::WaitFor); without it, a request whose
  // min_position is not yet folded fails at once with UNAVAILABLE.
  using PositionWaiter =
      std::function<absl::Status(ledger::Position, std::chrono::steady_clock::time_point)>;
  explicit ProjectionsServiceImpl(const projections::LiveAttendance* live, ledger::Clock clock = {},
                                  std::shared_ptr<const Authenticator> auth = nullptr,
                                  PositionWaiter wait_for = {});

  // The longest a call waits for min_position, whatever its deadline.
  static constexpr std::chrono::seconds kMaxPositionWait{10};

  grpc::Status GetPupilAttendance(grpc::ServerContext* context,
                                  const v1::GetPupilAttendanceRequest* request,
                                  v1::PupilAttendance* response) override;
  grpc::Status ListPupilAttendance(grpc::ServerContext* context,
                                   const v1::ListPupilAttendanceRequest* request,
                                   v1::ListPupilAttendanceResponse* response) override;
  grpc::Status GetCohortAttendance(grpc::ServerContext* context,
                                   const v1::GetCohortAttendanceRequest* request,
                                   v1::CohortAttendanceResponse* response) override;

 private:
  ledger::Day Today() const;
  // OK once the projection reflects `min_position` (0: at once).
  absl::Status AwaitPosition(const grpc::ServerContext& context,
                             ledger::Position min_position) const;

  const projections::LiveAttendance* live_;
  ledger::Clock clock_;
  std::shared_ptr<const Authenticator> auth_;
  PositionWaiter wait_for_;
};

}  // namespace attendance::services
