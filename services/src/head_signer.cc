#include "services/head_signer.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>

#include "absl/strings/str_cat.h"

namespace attendance::services {
namespace {

constexpr std::string_view kHeadDomain = "attendance-ledger-head-v1";

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// Reads a PEM private key, or failing that a public key.
absl::StatusOr<Pkey> ReadPem(const std::string& path, bool allow_public) {
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("head key file ", path, " cannot be read"));
  }
  Pkey key(PEM_read_PrivateKey(file, nullptr, nullptr, nullptr));
  if (!key && allow_public) {
    std::rewind(file);
    key.reset(PEM_read_PUBKEY(file, nullptr, nullptr, nullptr));
  }
  std::fclose(file);
  if (!key) {
    return absl::InvalidArgumentError(absl::StrCat("head key file ", path, " is not a PEM ",
                                                   allow_public ? "" : "private ", "key"));
  }
  if (EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError(absl::StrCat("head key file ", path,
                                                   " is not an Ed25519 key (make one with "
                                                   "`openssl genpkey -algorithm ed25519`)"));
  }
  return key;
}

absl::StatusOr<std::string> RawPublicKey(EVP_PKEY* key) {
  std::string raw(32, '\0');
  std::size_t size = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &size) != 1 ||
      size != 32) {
    return absl::InternalError("Ed25519: cannot read the public key");
  }
  return raw;
}

}  // namespace

struct HeadSigner::Key {
  Pkey pkey;
};

HeadSigner::~HeadSigner() = default;

absl::StatusOr<std::unique_ptr<HeadSigner>> HeadSigner::FromPemFile(const std::string& path) {
  absl::StatusOr<Pkey> key = ReadPem(path, /*allow_public=*/false);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> public_key = RawPublicKey(key->get());
  if (!public_key.ok()) return public_key.status();
  std::unique_ptr<HeadSigner> signer(new HeadSigner());
  signer->key_ = std::make_unique<Key>(Key{std::move(*key)});
  signer->public_key_ = std::move(*public_key);
  return signer;
}

absl::StatusOr<std::string> HeadSigner::Sign(ledger::Position position,
                                             std::string_view hash) const {
  const std::string message = HeadMessage(position, hash);
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::string signature(64, '\0');
  std::size_t size = signature.size();
  // Ed25519 hashes internally: no digest, one-shot.
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    return absl::InternalError("Ed25519: signing the head failed");
  }
  signature.resize(size);
  return signature;
}

std::string HeadMessage(ledger::Position position, std::string_view hash) {
  std::string message(kHeadDomain);
  for (int shift = 56; shift >= 0; shift -= 8) {
    message.push_back(static_cast<char>((position >> shift) & 0xff));
  }
  message.append(hash);
  return message;
}

bool VerifyHeadSignature(std::string_view public_key, ledger::Position position,
                         std::string_view hash, std::string_view signature) {
  if (public_key.size() != 32 || signature.size() != 64) return false;
  Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                       reinterpret_cast<const unsigned char*>(public_key.data()),
                                       public_key.size()));
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!key || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) {
    return false;
  }
  const std::string message = HeadMessage(position, hash);
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

absl::StatusOr<std::string> ReadEd25519PublicKey(const std::string& path) {
  absl::StatusOr<Pkey> key = ReadPem(path, /*allow_public=*/true);
  if (!key.ok()) return key.status();
  return RawPublicKey(key->get());
}

}  // namespace attendance::services
