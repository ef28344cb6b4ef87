#include "services/security.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace attendance::services {

bool IsLoopbackAddress(const std::string& listen) {
  std::string host = listen;
  if (absl::StartsWith(host, "[")) {
    host = host.substr(1, host.find(']') == std::string::npos ? 0 : host.find(']') - 1);
  } else if (const auto colon = host.rfind(':'); colon != std::string::npos) {
    host = host.substr(0, colon);
  }
  return host == "localhost" || host == "::1" || absl::StartsWith(host, "127.");
}

absl::StatusOr<Security> SetUpSecurity(const SecurityFlags& flags, const std::string& listen) {
  const bool tls = !flags.tls.cert_file.empty() || !flags.tls.key_file.empty();
  const bool tokens = !flags.tokens_file.empty();
  if ((!tls || !tokens) && !IsLoopbackAddress(listen)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to serve ", listen, " without ", tls ? "" : "TLS (--tls-cert, --tls-key)",
        !tls && !tokens ? " and " : "", tokens ? "" : "a tokens file (--tokens)",
        ": children's records must not cross a network in the clear or unauthenticated; "
        "listen on 127.0.0.1 for local use"));
  }
  if (tls && (flags.tls.cert_file.empty() || flags.tls.key_file.empty())) {
    return absl::InvalidArgumentError("TLS needs both --tls-cert and --tls-key");
  }
  if (!flags.tls.client_ca_file.empty() && !tls) {
    return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key");
  }
  Security security;
  if (tls) {
    auto credentials = MakeTlsCredentials(flags.tls);
    if (!credentials.ok()) return credentials.status();
    security.credentials = *std::move(credentials);
  }
  if (tokens) {
    auto store = TokenStore::Load(flags.tokens_file);
    if (!store.ok()) return store.status();
    security.tokens = std::shared_ptr<TokenStore>(std::move(*store));
    security.auth = Authenticator::WithTokens(security.tokens);
  } else {
    security.local = true;
    security.auth = Authenticator::LocalAdmin();
  }
  return security;
}

}  // namespace attendance::services
