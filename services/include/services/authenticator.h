#pragma once

#include <memory>
#include "absl/strings/string_view.h"

#include <grpcpp/server_context.h>

#include "absl/status/statusor.h"
#include "ledger/types.h"
#include "services/access.h"
#include "services/token_store.h"

namespace attendance::services {

// Turns a call's credentials into an authorised principal, once per call,
// before any request is read further or any stored response replayed.
//
// With a TokenStore, a call carries `authorization: Bearer <token>`; no
// token or an unknown one is UNAUTHENTICATED, a role or school that may not
// is PERMISSION_DENIED, and every denial is logged with the caller, the
// method and the school. Without one (local mode: ledgerd on a loopback
// address with no tokens file), every caller is "local admin", for the demo
// and development only; `x-actor-*` metadata is ignored in both modes.
class Authenticator {
 public:
  static std::unique_ptr<Authenticator> WithTokens(std::shared_ptr<const TokenStore> tokens);
  static std::unique_ptr<Authenticator> LocalAdmin();

  // The caller, or UNAUTHENTICATED.
  absl::StatusOr<Caller> Authenticate(const grpc::ServerContextBase& context,
                                      absl::string_view method) const;
  // The caller if it may do `action` on `school_id`, else the status to
  // return (UNAUTHENTICATED or PERMISSION_DENIED).
  absl::StatusOr<Caller> Authorize(const grpc::ServerContextBase& context, absl::string_view method,
                                   Action action, absl::string_view school_id) const;

  bool local() const { return tokens_ == nullptr; }

 private:
  explicit Authenticator(std::shared_ptr<const TokenStore> tokens) : tokens_(std::move(tokens)) {}
  std::shared_ptr<const TokenStore> tokens_;
};

// What the ledger records and checks of a caller: its name and role, and the
// two rules only the ledger can apply (creating a school; a register-taker's
// open-register window).
ledger::Principal ToPrincipal(const Caller& caller);

}  // namespace attendance::services
