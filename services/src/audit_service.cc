// AuditServiceImpl: construction, and the checks every method makes before
// it reads: who may call, and waiting for min_position.
#include "services/audit_service.h"

#include <chrono>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "logger.h"

namespace attendance::services {

AuditServiceImpl::AuditServiceImpl(const ledger::Ledger* ledger,
                                   const MarkHistoryReadModel* history,
                                   const AuditIndexReadModel* index, Options options)
    : ledger_(ledger), history_(history), index_(index), options_(std::move(options)) {
  if (!options_.auth) options_.auth = Authenticator::LocalAdmin();
}

absl::Status AuditServiceImpl::AwaitPosition(const grpc::ServerContext& context,
                                             const ReadModel& model,
                                             ledger::Position min_position) const {
  if (min_position == 0) return absl::OkStatus();
  // Only the host knows what a reader can see. model.position() is the last
  // event applied, which runs ahead of the keys these models write at their
  // next publish: answering on it read the store before the write at
  // min_position was there. The host's WaitFor returns at once when reached.
  if (!options_.wait_for) {
    return absl::UnavailableError(absl::StrCat("read model ", model.name(),
                                               ": no read-model host to wait on for min_position ",
                                               min_position));
  }
  const auto now_system = std::chrono::system_clock::now();
  const auto now_steady = std::chrono::steady_clock::now();
  auto wait = std::chrono::duration_cast<std::chrono::steady_clock::duration>(kMaxPositionWait);
  if (context.deadline() < now_system + kMaxPositionWait) {
    wait = std::chrono::duration_cast<std::chrono::steady_clock::duration>(context.deadline() -
                                                                           now_system);
  }
  return options_.wait_for(model.name(), min_position, now_steady + wait);
}

absl::Status AuditServiceImpl::AuthorizeVerify(const grpc::ServerContext& context,
                                               std::string_view method) const {
  absl::StatusOr<Caller> caller =
      options_.auth->Authenticate(context, absl::string_view(method.data(), method.size()));
  if (!caller.ok()) return caller.status();
  Caller any_school = *caller;
  any_school.all_schools = true;
  absl::Status allowed = Authorize(any_school, Action::kVerifyLedger, "");
  if (!allowed.ok()) {
    SPDLOG_LOGGER_WARN(&Log(), "denied {}: {}", method, std::string(allowed.message()));
  }
  return allowed;
}

}  // namespace attendance::services
