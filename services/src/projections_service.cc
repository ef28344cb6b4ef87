#include "services/projections_service.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "projections/attendance_queries.h"
#include "services/grpc_status.h"

namespace attendance::services {
ProjectionsServiceImpl::ProjectionsServiceImpl(const projections::LiveAttendance* live,
                                               ledger::Clock clock,
                                               std::shared_ptr<const Authenticator> auth,
                                               PositionWaiter wait_for)
    : live_(live),
      clock_(std::move(clock)),
      auth_(std::move(auth)),
      wait_for_(std::move(wait_for)) {
  if (!auth_) auth_ = Authenticator::LocalAdmin();
}

ledger::Day ProjectionsServiceImpl::Today() const { return clock_.Today(); }

absl::Status ProjectionsServiceImpl::AwaitPosition(const grpc::ServerContext& context,
                                                   ledger::Position min_position) const {
  if (min_position == 0 || live_->position() >= min_position) return absl::OkStatus();
  if (!wait_for_) {
    return absl::UnavailableError(
        absl::StrCat("projection at position ", live_->position(), ", asked for ", min_position));
  }
  // The call's deadline, bounded by the server's maximum; gRPC gives the
  // deadline on the system clock, the waiter takes the steady one.
  const auto now_system = std::chrono::system_clock::now();
  const auto now_steady = std::chrono::steady_clock::now();
  auto wait = std::chrono::duration_cast<std::chrono::steady_clock::duration>(kMaxPositionWait);
  if (context.deadline() < now_system + kMaxPositionWait) {
    wait = std::chrono::duration_cast<std::chrono::steady_clock::duration>(context.deadline() -
                                                                           now_system);
  }
  return wait_for_(min_position, now_steady + wait);
}

grpc::Status ProjectionsServiceImpl::GetPupilAttendance(grpc::ServerContext* context,
                                                        const v1::GetPupilAttendanceRequest* req,
                                                        v1::PupilAttendance* resp) {
  absl::StatusOr<Caller> caller =
      auth_->Authorize(*context, "GetPupilAttendance", Action::kReadProjections, req->school_id());
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (absl::Status s = AwaitPosition(*context, req->min_position()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  const ledger::Day today = Today();
  grpc::Status status = FinishQuery(live_->Read([&](const projections::AttendanceState& state) {
    return projections::QueryPupilAttendance(state, *req, today);
  }),
                                    resp);
  if (status.ok() && !SeesPersonalData(*caller)) RedactPupil(*resp->mutable_pupil());
  return status;
}

grpc::Status ProjectionsServiceImpl::ListPupilAttendance(grpc::ServerContext* context,
                                                         const v1::ListPupilAttendanceRequest* req,
                                                         v1::ListPupilAttendanceResponse* resp) {
  absl::StatusOr<Caller> caller =
      auth_->Authorize(*context, "ListPupilAttendance", Action::kReadProjections, req->school_id());
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (absl::Status s = AwaitPosition(*context, req->min_position()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  const bool personal = SeesPersonalData(*caller);
  if (!personal) {
    // A list filtered by a pupil's characteristic discloses it pupil by pupil.
    for (int i = 0; i < req->cohort_size(); ++i) {
      const v1::CohortAttribute attribute = req->cohort(i).attribute();
      if (attribute != v1::YEAR_GROUP && attribute != v1::CLASS_NAME) {
        return {grpc::StatusCode::PERMISSION_DENIED,
                absl::StrCat("cohort[", i, "].attribute: ", v1::CohortAttribute_Name(attribute),
                             " filters pupils by personal data, which ", caller->name,
                             " (role reporter) is not granted")};
      }
    }
  }
  const ledger::Day today = Today();
  grpc::Status status = FinishQuery(live_->Read([&](const projections::AttendanceState& state) {
    return projections::QueryPupilList(state, *req, today);
  }),
                                    resp);
  if (status.ok() && !personal) {
    for (v1::PupilRow& row : *resp->mutable_pupils()) RedactPupil(*row.mutable_pupil());
  }
  return status;
}

grpc::Status ProjectionsServiceImpl::GetCohortAttendance(grpc::ServerContext* context,
                                                         const v1::GetCohortAttendanceRequest* req,
                                                         v1::CohortAttendanceResponse* resp) {
  // Cohort figures are sums over groups, so a reporter may see them.
  absl::StatusOr<Caller> caller =
      auth_->Authorize(*context, "GetCohortAttendance", Action::kReadProjections, req->school_id());
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (absl::Status s = AwaitPosition(*context, req->min_position()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  const ledger::Day today = Today();
  return FinishQuery(live_->Read([&](const projections::AttendanceState& state) {
    return projections::QueryCohorts(state, *req, today);
  }),
                     resp);
}

}  // namespace attendance::services
