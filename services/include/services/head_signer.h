#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ledger/types.h"

namespace attendance::services {

// Signs the ledger's head (a position and its chain hash) with the
// operator's Ed25519 key through OpenSSL, so that a school or the local
// authority can keep a signed head elsewhere and later check that the log
// still extends it. The signed bytes are HeadMessage(position, hash).
// Thread-safe once made.
class HeadSigner {
 public:
  // From a PEM private key (PKCS#8, `openssl genpkey -algorithm ed25519`).
  // INVALID_ARGUMENT naming the file if it cannot be read, is not PEM, or
  // is not an Ed25519 key.
  static absl::StatusOr<std::unique_ptr<HeadSigner>> FromPemFile(const std::string& path);
  ~HeadSigner();
  HeadSigner(const HeadSigner&) = delete;
  HeadSigner& operator=(const HeadSigner&) = delete;

  // The 64-byte signature. INTERNAL if OpenSSL fails.
  absl::StatusOr<std::string> Sign(ledger::Position position, std::string_view hash) const;
  // The raw 32-byte public key.
  const std::string& public_key() const { return public_key_; }

 private:
  HeadSigner() = default;
  struct Key;
  std::unique_ptr<Key> key_;
  std::string public_key_;
};

// "attendance-ledger-head-v1" || position (8 bytes big-endian) || hash.
std::string HeadMessage(ledger::Position position, std::string_view hash);

// Whether `signature` is the Ed25519 signature of HeadMessage(position,
// hash) under the raw 32-byte `public_key`.
bool VerifyHeadSignature(std::string_view public_key, ledger::Position position,
                         std::string_view hash, std::string_view signature);

// The raw 32-byte key of a PEM Ed25519 public key file (`openssl pkey
// -pubout`), or of a private key file. INVALID_ARGUMENT naming the file.
absl::StatusOr<std::string> ReadEd25519PublicKey(const std::string& path);

}  // namespace attendance::services
