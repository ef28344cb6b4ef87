#include "services/projections_service.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "projections/attendance_queries.h"
#include "projections/uk_time.h"
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
                                               std::function<std::int64_t()> now_us,
                                               PositionWaiter wait_for)
    : live_(live), now_us_(std::move(now_us)), wait_for_(std::move(wait_for)) {
  if (!now_us_) {
    now_us_ = [] {
      return std::chrono::duration_cast<std::chrono::microseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
}

ledger::Day ProjectionsServiceImpl::Today() const { return projections::UkLocalDay(now_us_()); }

absl::Status ProjectionsServiceImpl::AwaitPosition(const grpc::ServerContext& context,
                                                   ledger::Position min_position) const {
  if (min_position == 0 || live_->position() >= min_position) return absl::OkStatus();
  if (!wait_for_) {
    return absl::UnavailableError(absl::StrCat("projection at position ", live_->position(),
                                               ", asked for ", min_position));
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
  if (absl::Status s = AwaitPosition(*context, req->min_position()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  const ledger::Day today = Today();
  return Finish(live_->Read([&](const projections::AttendanceState& state) {
    return projections::QueryPupilAttendance(state, *req, today);
  }),
                resp);
}

grpc::Status ProjectionsServiceImpl::ListPupilAttendance(grpc::ServerContext* context,
                                                         const v1::ListPupilAttendanceRequest* req,
                                                         v1::ListPupilAttendanceResponse* resp) {
  if (absl::Status s = AwaitPosition(*context, req->min_position()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  const ledger::Day today = Today();
  return Finish(live_->Read([&](const projections::AttendanceState& state) {
    return projections::QueryPupilList(state, *req, today);
  }),
                resp);
}

grpc::Status ProjectionsServiceImpl::GetCohortAttendance(grpc::ServerContext* context,
                                                         const v1::GetCohortAttendanceRequest* req,
                                                         v1::CohortAttendanceResponse* resp) {
  if (absl::Status s = AwaitPosition(*context, req->min_position()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  const ledger::Day today = Today();
  return Finish(live_->Read([&](const projections::AttendanceState& state) {
    return projections::QueryCohorts(state, *req, today);
  }),
                resp);
}

}  // namespace attendance::services
