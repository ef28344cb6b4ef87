// AuditServiceImpl's checks of the log itself: the hash chain
// (VerifyLedger) and signed heads (GetLedgerHead).
#include "services/audit_service.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "logger.h"
#include "services/grpc_status.h"
#include "services/ledger_verification.h"

namespace attendance::services {

grpc::Status AuditServiceImpl::VerifyLedger(grpc::ServerContext* context,
                                            const v1::VerifyLedgerRequest* req,
                                            grpc::ServerWriter<v1::VerifyLedgerProgress>* writer) {
  if (absl::Status s = AuthorizeVerify(*context, "VerifyLedger"); !s.ok()) return ToGrpcStatus(s);
  const std::uint64_t every =
      req->progress_every() == 0 ? kDefaultProgressEvery : req->progress_every();
  if (every < kMinProgressEvery || every > kMaxProgressEvery) {
    return ToGrpcStatus(absl::InvalidArgumentError(
        absl::StrCat("progress_every: ", req->progress_every(), " is not in ", kMinProgressEvery,
                     "..", kMaxProgressEvery)));
  }
  const std::string public_key = options_.signer ? options_.signer->public_key() : std::string();
  absl::StatusOr<v1::VerifyLedgerProgress> result =
      VerifyLedgerRange(*ledger_, req->from_position(), req->to_position(), every,
                        req->has_head() ? &req->head() : nullptr, public_key,
                        [&](const v1::VerifyLedgerProgress& progress) {
                          return !context->IsCancelled() && writer->Write(progress);
                        });
  if (!result.ok()) return ToGrpcStatus(result.status());
  if (!result->ok()) {
    SPDLOG_LOGGER_ERROR(&Log(), "VerifyLedger: chain fails at position {}: {}",
                        result->first_failing_position(), result->failure());
  }
  writer->Write(*result);
  return grpc::Status::OK;
}

grpc::Status AuditServiceImpl::GetLedgerHead(grpc::ServerContext* context,
                                             const v1::GetLedgerHeadRequest*,
                                             v1::SignedHead* resp) {
  if (absl::Status s = AuthorizeVerify(*context, "GetLedgerHead"); !s.ok()) return ToGrpcStatus(s);
  if (options_.signer == nullptr) {
    return ToGrpcStatus(absl::FailedPreconditionError(
        "this ledgerd signs no heads: start it with --head-key FILE (an Ed25519 PEM key)"));
  }
  const ledger::Position head = ledger_->LastPosition();
  if (head == 0) return ToGrpcStatus(absl::FailedPreconditionError("the log is empty"));
  absl::StatusOr<std::string> hash = HashAt(*ledger_, head);
  if (!hash.ok()) return ToGrpcStatus(hash.status());
  absl::StatusOr<std::string> signature = options_.signer->Sign(head, *hash);
  if (!signature.ok()) return ToGrpcStatus(signature.status());
  resp->set_position(head);
  resp->set_hash(*hash);
  resp->set_signature(*signature);
  resp->set_public_key(options_.signer->public_key());
  return grpc::Status::OK;
}

}  // namespace attendance::services
