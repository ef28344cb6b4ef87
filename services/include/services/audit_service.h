#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "attendance/v1/audit_service.grpc.pb.h"
#include "ledger/clock.h"
#include "ledger/ledger.h"
#include "projections/live_escalation.h"
#include "services/audit_index_read_model.h"
#include "services/authenticator.h"
#include "services/head_signer.h"
#include "services/mark_history_read_model.h"

namespace attendance::services {

// attendance.v1.Audit (proto/attendance/v1/audit_service.proto): mark
// histories from MarkHistoryReadModel, amendments and registers as they
// stood from AuditIndexReadModel, chain verification and signed heads from
// the ledger. No query scans the log; VerifyLedger reads it in bounded runs
// while writes go on.
//
// Status codes: INVALID_ARGUMENT naming the field and value; NOT_FOUND for a
// session without a mark; FAILED_PRECONDITION for GetLedgerHead without a
// key or on an empty log; UNAUTHENTICATED / PERMISSION_DENIED from the
// authenticator; min_position not reached: DEADLINE_EXCEEDED or UNAVAILABLE
// as in the Projections service. Thread-safe.
class AuditServiceImpl final : public v1::Audit::Service {
 public:
  // Waits until read model `name` has published `position` (ReadModelHost::WaitFor).
  using PositionWaiter = std::function<absl::Status(const std::string& name, ledger::Position,
                                                    std::chrono::steady_clock::time_point)>;

  struct Options {
    ledger::Clock clock;
    std::shared_ptr<const Authenticator> auth;  // null: local admin
    PositionWaiter wait_for;                    // null: any min_position is UNAVAILABLE
    const HeadSigner* signer = nullptr;         // null: no signed heads
    // The escalation read model and its state, for the stage changes of
    // GetPupilTimeline; null: timelines without them.
    const ReadModel* escalation_model = nullptr;
    const projections::LiveEscalation* escalation = nullptr;
  };

  // Every pointer must outlive the service.
  AuditServiceImpl(const ledger::Ledger* ledger, const MarkHistoryReadModel* history,
                   const AuditIndexReadModel* index, Options options);

  static constexpr std::chrono::seconds kMaxPositionWait{10};
  static constexpr std::uint32_t kDefaultReplayResults = 10'000;
  static constexpr std::uint32_t kMaxReplayResults = 100'000;
  static constexpr std::size_t kMaxRegisterLines = 10'000;
  static constexpr std::uint64_t kDefaultProgressEvery = 100'000;
  static constexpr std::uint64_t kMinProgressEvery = 1'000;
  static constexpr std::uint64_t kMaxProgressEvery = 10'000'000;

  grpc::Status GetMarkHistory(grpc::ServerContext* context,
                              const v1::GetMarkHistoryRequest* request,
                              v1::MarkHistory* response) override;
  grpc::Status ReplayAmendments(grpc::ServerContext* context,
                                const v1::ReplayAmendmentsRequest* request,
                                grpc::ServerWriter<v1::ReplayAmendmentsResponse>* writer) override;
  grpc::Status GetRegisterAsOf(grpc::ServerContext* context,
                               const v1::GetRegisterAsOfRequest* request,
                               v1::RegisterAsOf* response) override;
  grpc::Status GetPupilTimeline(grpc::ServerContext* context,
                                const v1::GetPupilTimelineRequest* request,
                                grpc::ServerWriter<v1::PupilTimelinePage>* writer) override;
  grpc::Status VerifyLedger(grpc::ServerContext* context, const v1::VerifyLedgerRequest* request,
                            grpc::ServerWriter<v1::VerifyLedgerProgress>* writer) override;
  grpc::Status GetLedgerHead(grpc::ServerContext* context, const v1::GetLedgerHeadRequest* request,
                             v1::SignedHead* response) override;

 private:
  absl::Status AwaitPosition(const grpc::ServerContext& context, const ReadModel& model,
                             ledger::Position min_position) const;
  // Auditor or admin, whatever their schools (positions and hashes only).
  absl::Status AuthorizeVerify(const grpc::ServerContext& context, std::string_view method) const;

  const ledger::Ledger* ledger_;
  const MarkHistoryReadModel* history_;
  const AuditIndexReadModel* index_;
  Options options_;
};

}  // namespace attendance::services
