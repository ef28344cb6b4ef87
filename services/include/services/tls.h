#pragma once

#include <memory>
#include <string>

#include <grpcpp/security/server_credentials.h>

#include "absl/status/statusor.h"

namespace attendance::services {

// Files in PEM. With `client_ca_file`, callers must present a certificate
// signed by that CA (mutual TLS, for service-to-service callers); a bearer
// token is still required on top.
struct TlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
};

// NOT_FOUND naming the file that cannot be read; INVALID_ARGUMENT if a file
// is not PEM or the key does not match the certificate.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeTlsCredentials(const TlsFiles& files);

}  // namespace attendance::services
