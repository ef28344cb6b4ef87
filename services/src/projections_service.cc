#include "services/projections_service.h"

#include <utility>

#include "projections/attendance_queries.h"
#include "services/grpc_status.h"

namespace attendance::services {
namespace {

template <typename Response>
grpc::Status Finish(absl::StatusOr<Response> result, Response* response) {
  if (result.ok()) *response = std::move(*result);
  return ToGrpcStatus(result.status());
}

}  // namespace

ProjectionsServiceImpl::ProjectionsServiceImpl(const projections::LiveAttendance* live,
                                               ledger::Clock clock)
    : live_(live), clock_(std::move(clock)) {}

ledger::Day ProjectionsServiceImpl::Today() const { return clock_.Today(); }

grpc::Status ProjectionsServiceImpl::GetPupilAttendance(grpc::ServerContext*,
                                                        const v1::GetPupilAttendanceRequest* req,
                                                        v1::PupilAttendance* resp) {
  const ledger::Day today = Today();
  return Finish(live_->Read([&](const projections::AttendanceState& state) {
    return projections::QueryPupilAttendance(state, *req, today);
  }),
                resp);
}

grpc::Status ProjectionsServiceImpl::ListPupilAttendance(grpc::ServerContext*,
                                                         const v1::ListPupilAttendanceRequest* req,
                                                         v1::ListPupilAttendanceResponse* resp) {
  const ledger::Day today = Today();
  return Finish(live_->Read([&](const projections::AttendanceState& state) {
    return projections::QueryPupilList(state, *req, today);
  }),
                resp);
}

grpc::Status ProjectionsServiceImpl::GetCohortAttendance(grpc::ServerContext*,
                                                         const v1::GetCohortAttendanceRequest* req,
                                                         v1::CohortAttendanceResponse* resp) {
  const ledger::Day today = Today();
  return Finish(live_->Read([&](const projections::AttendanceState& state) {
    return projections::QueryCohorts(state, *req, today);
  }),
                resp);
}

}  // namespace attendance::services
