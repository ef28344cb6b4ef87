#pragma once

#include <grpcpp/grpcpp.h>

#include "attendance/v1/projections_service.grpc.pb.h"
#include "ledger/clock.h"
#include "projections/live_attendance.h"
#include "services/authenticator.h"

namespace attendance::services {

// attendance.v1.Projections: attendance figures read from the live
// projection (projections::LiveAttendance, kept current by a
// projections::ProjectionRunner). Handlers only parse, query under the
// projection's shared lock, and map statuses: the work is in
// projections/attendance_queries.h. Reads never block ledger writes.
//
// Status codes: INVALID_ARGUMENT naming the field and value; NOT_FOUND for
// an unknown school or pupil; UNAUTHENTICATED / PERMISSION_DENIED from the
// authenticator. Thread-safe.
class ProjectionsServiceImpl final : public v1::Projections::Service {
 public:
  // `clock` gives "today" (the school-local date in England) for requests
  // without as_of: the same clock the ledger validates with. `auth`: who may
  // read (default: local mode, every caller an admin). `live` must outlive
  // the service.
  explicit ProjectionsServiceImpl(const projections::LiveAttendance* live,
                                  ledger::Clock clock = {},
                                  std::shared_ptr<const Authenticator> auth = nullptr);

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

  const projections::LiveAttendance* live_;
  ledger::Clock clock_;
  std::shared_ptr<const Authenticator> auth_;
};

}  // namespace attendance::services
