#include "personal_keys.h"

#include <memory>
#include <mutex>
#include <optional>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "keys.h"
#include "ledger/personal_data.h"
#include "rocks_status.h"

namespace attendance::ledger {
namespace {

constexpr int kKeyBytes = 32;
constexpr int kNonceBytes = 12;
constexpr int kTagBytes = 16;

struct CipherContextFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherContextFree>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// What the ciphertext is bound to: its school, pupil and position.
std::string AssociatedData(const v1::EventEnvelope& event) {
  std::string aad = keys::PupilKey(event.school_id(), event.pupil_id());
  keys::PutFixed64(aad, event.position());
  return aad;
}

absl::StatusOr<std::string> Encrypt(std::string_view key, std::string_view aad,
                                    std::string_view plain) {
  std::string out(kNonceBytes + plain.size() + kTagBytes, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  if (RAND_bytes(nonce, kNonceBytes) != 1) return absl::InternalError("RAND_bytes failed");
  CipherContext ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  auto* body = nonce + kNonceBytes;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), body, &len, Bytes(plain), static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), body + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, body + plain.size()) != 1) {
    return absl::InternalError("AES-256-GCM encryption failed");
  }
  return out;
}

// nullopt if the bytes do not authenticate under the key.
std::optional<std::string> Decrypt(std::string_view key, std::string_view aad,
                                   std::string_view sealed) {
  if (sealed.size() < kNonceBytes + kTagBytes) return std::nullopt;
  const std::size_t size = sealed.size() - kNonceBytes - kTagBytes;
  std::string plain(size, '\0');
  CipherContext ctx(EVP_CIPHER_CTX_new());
  const unsigned char* nonce = Bytes(sealed);
  int len = 0;
  // The tag is only read, but OpenSSL's ctrl takes a non-const pointer.
  std::string tag(sealed.substr(kNonceBytes + size));
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key), nonce) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len,
                        nonce + kNonceBytes, static_cast<int>(size)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + len, &len) !=
          1) {
    return std::nullopt;
  }
  return plain;
}

}  // namespace

absl::Status PersonalKeys::Load(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family) {
  absl::flat_hash_map<std::string, std::string> loaded;
  if (family != nullptr) {
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), family));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->value().size() != kKeyBytes) {
        return absl::DataLossError("pupil_keys: a stored key is not 32 bytes");
      }
      loaded.emplace(it->key().ToString(), it->value().ToString());
    }
    if (auto s = FromRocks(it->status(), "load pupil keys"); !s.ok()) return s;
  }
  std::unique_lock lock(mu_);
  keys_ = std::move(loaded);
  return absl::OkStatus();
}

absl::Status PersonalKeys::Seal(v1::EventEnvelope& event, rocksdb::WriteBatch& batch,
                                rocksdb::ColumnFamilyHandle* family) {
  if (event.pupil_id().empty() || family == nullptr) return absl::OkStatus();
  v1::EventEnvelope personal;
  if (!MovePersonalFields(event, personal)) return absl::OkStatus();
  const std::string id = keys::PupilKey(event.school_id(), event.pupil_id());
  std::string key;
  {
    std::shared_lock lock(mu_);
    if (auto it = keys_.find(id); it != keys_.end()) key = it->second;
  }
  if (key.empty()) {
    key.resize(kKeyBytes);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), kKeyBytes) != 1) {
      return absl::InternalError("RAND_bytes failed for a pupil key");
    }
    batch.Put(family, id, key);
    std::unique_lock lock(mu_);
    keys_.emplace(id, key);
  }
  auto sealed = Encrypt(key, AssociatedData(event), personal.SerializeAsString());
  if (!sealed.ok()) return sealed.status();
  event.set_sealed_personal(std::move(*sealed));
  return absl::OkStatus();
}

absl::Status PersonalKeys::Open(v1::EventEnvelope& event) const {
  if (event.sealed_personal().empty()) return absl::OkStatus();
  std::string key;
  {
    std::shared_lock lock(mu_);
    if (auto it = keys_.find(keys::PupilKey(event.school_id(), event.pupil_id()));
        it != keys_.end()) {
      key = it->second;
    }
  }
  if (key.empty()) {
    ClearPersonalFields(event);
    return absl::OkStatus();
  }
  std::optional<std::string> plain = Decrypt(key, AssociatedData(event), event.sealed_personal());
  v1::EventEnvelope personal;
  if (!plain || !personal.ParseFromString(*plain)) {
    return absl::DataLossError("the sealed personal data does not open with the pupil's key");
  }
  event.clear_sealed_personal();
  event.MergeFrom(personal);
  return absl::OkStatus();
}

void PersonalKeys::Erase(std::string_view school, std::string_view pupil,
                         rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* family) {
  const std::string id = keys::PupilKey(school, pupil);
  if (family != nullptr) batch.Delete(family, id);
  std::unique_lock lock(mu_);
  keys_.erase(id);
}

}  // namespace attendance::ledger
