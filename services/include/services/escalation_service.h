#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>

#include "attendance/v1/escalation_service.grpc.pb.h"
#include "ledger/clock.h"
#include "projections/live_escalation.h"
#include "services/authenticator.h"
#include "services/projections_service.h"

namespace attendance::services {

// attendance.v1.Escalation: the escalation read model's queries
// (projections/escalation_queries.h) under its shared lock. Reading needs
// the same action as the attendance figures (kReadProjections); a reporter
// without the personal-data grant is refused pupil-level answers
// (GetPupilEscalation, ListDueActions, ListEscalations, ListFirstResponse),
// which name pupils' absences; SimulatePolicy answers counts only.
// SimulatePolicy is expensive: kMaxConcurrentSimulations run at once per
// server (more: RESOURCE_EXHAUSTED), each bounded by
// projections::kMaxSimulationEvaluations.
class EscalationServiceImpl final : public v1::Escalation::Service {
 public:
  using PositionWaiter = ProjectionsServiceImpl::PositionWaiter;
  explicit EscalationServiceImpl(const projections::LiveEscalation* live, ledger::Clock clock = {},
                                 std::shared_ptr<const Authenticator> auth = nullptr,
                                 PositionWaiter wait_for = {});

  grpc::Status GetEscalationPolicy(grpc::ServerContext* context,
                                   const v1::GetEscalationPolicyRequest* request,
                                   v1::GetEscalationPolicyResponse* response) override;
  grpc::Status GetPupilEscalation(grpc::ServerContext* context,
                                  const v1::GetPupilEscalationRequest* request,
                                  v1::PupilEscalation* response) override;
  grpc::Status ListDueActions(grpc::ServerContext* context,
                              const v1::ListDueActionsRequest* request,
                              v1::ListDueActionsResponse* response) override;
  grpc::Status ListEscalations(grpc::ServerContext* context,
                               const v1::ListEscalationsRequest* request,
                               v1::ListEscalationsResponse* response) override;
  grpc::Status SimulatePolicy(grpc::ServerContext* context,
                              const v1::SimulatePolicyRequest* request,
                              v1::SimulatePolicyResponse* response) override;
  grpc::Status ListFirstResponse(grpc::ServerContext* context,
                                 const v1::ListFirstResponseRequest* request,
                                 v1::ListFirstResponseResponse* response) override;

  static constexpr int kMaxConcurrentSimulations = 1;
  grpc::Status EvaluateLeaveRequest(grpc::ServerContext* context,
                                    const v1::EvaluateLeaveRequestRequest* request,
                                    v1::LeaveEvaluation* response) override;

 private:
  // Authorises and waits for min_position; OK to go on.
  absl::Status Admit(grpc::ServerContext& context, const char* method, const std::string& school_id,
                     ledger::Position min_position, bool pupil_level) const;

  const projections::LiveEscalation* live_;
  ledger::Clock clock_;
  std::shared_ptr<const Authenticator> auth_;
  PositionWaiter wait_for_;
  std::atomic<int> simulations_{0};
};

}  // namespace attendance::services
