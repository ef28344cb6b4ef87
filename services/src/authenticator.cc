#include "services/authenticator.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "logger.h"

namespace attendance::services {
namespace {

absl::string_view Metadata(const grpc::ServerContextBase& context, absl::string_view key) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (it == metadata.end()) return {};
  return absl::string_view(it->second.data(), it->second.size());
}

}  // namespace

std::unique_ptr<Authenticator> Authenticator::WithTokens(std::shared_ptr<const TokenStore> tokens) {
  return std::unique_ptr<Authenticator>(new Authenticator(std::move(tokens)));
}

std::unique_ptr<Authenticator> Authenticator::LocalAdmin() {
  return std::unique_ptr<Authenticator>(new Authenticator(nullptr));
}

absl::StatusOr<Caller> Authenticator::Authenticate(const grpc::ServerContextBase& context,
                                                   absl::string_view method) const {
  if (local()) {
    // Never a name from metadata: nothing vouches for it.
    Caller caller;
    caller.name = "local admin";
    caller.role = Role::kAdmin;
    caller.all_schools = true;
    return caller;
  }
  absl::string_view header = Metadata(context, "authorization");
  absl::string_view token = header;
  if (!absl::ConsumePrefix(&token, "Bearer ") || token.empty()) {
    SPDLOG_LOGGER_WARN(&Log(), "denied {}: no bearer token (peer {})", std::string(method),
                       context.peer());
    return absl::UnauthenticatedError(
        "no credentials: send the metadata \"authorization: Bearer <token>\"");
  }
  std::optional<Caller> caller = tokens_->Find(token);
  if (!caller) {
    SPDLOG_LOGGER_WARN(&Log(), "denied {}: unknown token (peer {})", std::string(method),
                       context.peer());
    return absl::UnauthenticatedError("the bearer token is not valid (unknown or revoked)");
  }
  return *std::move(caller);
}

absl::StatusOr<Caller> Authenticator::Authorize(const grpc::ServerContextBase& context,
                                                absl::string_view method, Action action,
                                                absl::string_view school_id) const {
  absl::StatusOr<Caller> caller = Authenticate(context, method);
  if (!caller.ok()) return caller.status();
  if (absl::Status s = services::Authorize(*caller, action, school_id); !s.ok()) {
    SPDLOG_LOGGER_WARN(&Log(), "denied {}: caller=\"{}\" role={} school={}: {}",
                       std::string(method), caller->name, std::string(RoleName(caller->role)),
                       ledger::Quoted(std::string_view(school_id.data(), school_id.size())),
                       std::string(s.message()));
    return s;
  }
  return caller;
}

ledger::Principal ToPrincipal(const Caller& caller) {
  ledger::Principal principal;
  principal.name = caller.name;
  principal.role = std::string(RoleName(caller.role));
  principal.may_create_schools = caller.role == Role::kAdmin;
  principal.open_registers_only = caller.role == Role::kRegister;
  return principal;
}

}  // namespace attendance::services
