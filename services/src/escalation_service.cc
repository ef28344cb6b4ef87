#include "services/escalation_service.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "projections/escalation_queries.h"
#include "projections/escalation_reports.h"
#include "projections/leave_evaluation.h"
#include "services/access.h"
#include "services/grpc_status.h"

namespace attendance::services {
EscalationServiceImpl::EscalationServiceImpl(const projections::LiveEscalation* live,
                                             ledger::Clock clock,
                                             std::shared_ptr<const Authenticator> auth,
                                             PositionWaiter wait_for)
    : live_(live),
      clock_(std::move(clock)),
      auth_(std::move(auth)),
      wait_for_(std::move(wait_for)) {
  if (!auth_) auth_ = Authenticator::LocalAdmin();
}

absl::Status EscalationServiceImpl::Admit(grpc::ServerContext& context, const char* method,
                                          const std::string& school_id,
                                          ledger::Position min_position, bool pupil_level) const {
  absl::StatusOr<Caller> caller =
      auth_->Authorize(context, method, Action::kReadProjections, school_id);
  if (!caller.ok()) return caller.status();
  if (pupil_level && !SeesPersonalData(*caller)) {
    return absl::PermissionDeniedError(
        absl::StrCat(caller->name,
                     " (role reporter) may not read pupils' escalations without the "
                     "personal-data grant"));
  }
  if (min_position == 0 || live_->position() >= min_position) return absl::OkStatus();
  if (!wait_for_) {
    return absl::UnavailableError(absl::StrCat("escalation read model at position ",
                                               live_->position(), ", asked for ", min_position));
  }
  const auto now_system = std::chrono::system_clock::now();
  auto wait = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      ProjectionsServiceImpl::kMaxPositionWait);
  if (context.deadline() < now_system + ProjectionsServiceImpl::kMaxPositionWait) {
    wait = std::chrono::duration_cast<std::chrono::steady_clock::duration>(context.deadline() -
                                                                           now_system);
  }
  return wait_for_(min_position, std::chrono::steady_clock::now() + wait);
}

grpc::Status EscalationServiceImpl::GetEscalationPolicy(
    grpc::ServerContext* context, const v1::GetEscalationPolicyRequest* request,
    v1::GetEscalationPolicyResponse* response) {
  if (absl::Status s = Admit(*context, "GetEscalationPolicy", request->school_id(),
                             request->min_position(), false);
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  const ledger::Day today = clock_.Today();
  return FinishQuery(live_->Read([&](const projections::EscalationState& state) {
    return projections::QueryEscalationPolicy(state, *request, today);
  }),
                     response);
}

grpc::Status EscalationServiceImpl::GetPupilEscalation(grpc::ServerContext* context,
                                                       const v1::GetPupilEscalationRequest* request,
                                                       v1::PupilEscalation* response) {
  if (absl::Status s = Admit(*context, "GetPupilEscalation", request->school_id(),
                             request->min_position(), true);
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  const ledger::LocalTime now = clock_.Local();
  return FinishQuery(live_->Read([&](const projections::EscalationState& state) {
    return projections::QueryPupilEscalation(state, *request, now.day, now.minute_of_day);
  }),
                     response);
}

grpc::Status EscalationServiceImpl::ListDueActions(grpc::ServerContext* context,
                                                   const v1::ListDueActionsRequest* request,
                                                   v1::ListDueActionsResponse* response) {
  if (absl::Status s =
          Admit(*context, "ListDueActions", request->school_id(), request->min_position(), true);
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  const ledger::LocalTime now = clock_.Local();
  return FinishQuery(live_->Read([&](const projections::EscalationState& state) {
    return projections::QueryDueActions(state, *request, now.day, now.minute_of_day);
  }),
                     response);
}

grpc::Status EscalationServiceImpl::ListEscalations(grpc::ServerContext* context,
                                                    const v1::ListEscalationsRequest* request,
                                                    v1::ListEscalationsResponse* response) {
  if (absl::Status s =
          Admit(*context, "ListEscalations", request->school_id(), request->min_position(), true);
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  const ledger::Day today = clock_.Today();
  return FinishQuery(live_->Read([&](const projections::EscalationState& state) {
    return projections::QueryEscalations(state, *request, today);
  }),
                     response);
}

grpc::Status EscalationServiceImpl::ListFirstResponse(grpc::ServerContext* context,
                                                      const v1::ListFirstResponseRequest* request,
                                                      v1::ListFirstResponseResponse* response) {
  if (absl::Status s =
          Admit(*context, "ListFirstResponse", request->school_id(), request->min_position(), true);
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  const ledger::LocalTime now = clock_.Local();
  return FinishQuery(live_->Read([&](const projections::EscalationState& state) {
    return projections::QueryFirstResponse(state, *request, now.day, now.minute_of_day);
  }),
                     response);
}

grpc::Status EscalationServiceImpl::SimulatePolicy(grpc::ServerContext* context,
                                                   const v1::SimulatePolicyRequest* request,
                                                   v1::SimulatePolicyResponse* response) {
  if (absl::Status s =
          Admit(*context, "SimulatePolicy", request->school_id(), request->min_position(), false);
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  // One at a time: a simulation holds the read lock for its whole run.
  if (simulations_.fetch_add(1) >= kMaxConcurrentSimulations) {
    simulations_.fetch_sub(1);
    return ToGrpcStatus(absl::ResourceExhaustedError(
        absl::StrCat("SimulatePolicy: ", kMaxConcurrentSimulations,
                     " simulation(s) already running on this server (the limit); retry later")));
  }
  const ledger::Day today = clock_.Today();
  grpc::Status status = FinishQuery(live_->Read([&](const projections::EscalationState& state) {
    return projections::SimulatePolicy(state, *request, today);
  }),
                                    response);
  simulations_.fetch_sub(1);
  return status;
}

grpc::Status EscalationServiceImpl::EvaluateLeaveRequest(
    grpc::ServerContext* context, const v1::EvaluateLeaveRequestRequest* request,
    v1::LeaveEvaluation* response) {
  if (absl::Status s = Admit(*context, "EvaluateLeaveRequest", request->school_id(),
                             request->min_position(), true);
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  const ledger::Day today = clock_.Today();
  return FinishQuery(live_->Read([&](const projections::EscalationState& state) {
    return projections::QueryLeaveEvaluation(state, *request, today);
  }),
                     response);
}

}  // namespace attendance::services
