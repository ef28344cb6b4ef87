#pragma once

#include <memory>
#include <string>

#include <grpcpp/security/server_credentials.h>

#include "absl/status/statusor.h"
#include "services/authenticator.h"
#include "services/tls.h"
#include "services/token_store.h"

namespace attendance::services {

struct SecurityFlags {
  std::string tokens_file;
  TlsFiles tls;
};

// How a server authenticates callers and protects its transport.
struct Security {
  std::shared_ptr<TokenStore> tokens;  // null in local mode; Reload() on SIGHUP
  std::shared_ptr<const Authenticator> auth;
  std::shared_ptr<grpc::ServerCredentials> credentials;  // null: plaintext
  // No tokens file: every caller is a local admin (loopback only).
  bool local = false;
};

// Safe by default: without both TLS and a tokens file, only a loopback
// address may be served (FAILED_PRECONDITION saying what to add otherwise);
// without a tokens file every caller is a local admin.
absl::StatusOr<Security> SetUpSecurity(const SecurityFlags& flags, const std::string& listen);

// "127.0.0.1:50051", "localhost:0", "[::1]:80" and the rest of 127.0.0.0/8.
bool IsLoopbackAddress(const std::string& listen);

}  // namespace attendance::services
