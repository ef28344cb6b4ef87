#include "chain_check.h"

#include <cstring>
#include <utility>

#include <openssl/evp.h>

#include "absl/strings/str_cat.h"
#include "group.h"

namespace attendance::ledger {
namespace {

// The position an envelope's bytes carry: field 1, a varint, which the
// serializer writes first (fields go out in number order). 0 if absent.
Position StoredPosition(std::string_view body) {
  if (body.empty() || body[0] != 0x08) return 0;
  Position value = 0;
  for (std::size_t i = 1, shift = 0; i < body.size() && shift < 64; ++i, shift += 7) {
    const auto byte = static_cast<unsigned char>(body[i]);
    value |= static_cast<Position>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  return 0;
}

}  // namespace

ParallelChainCheck::ParallelChainCheck(int hashers) {
  for (int i = 0; i < std::max(1, hashers); ++i) threads_.emplace_back([this] { Hash(); });
}

ParallelChainCheck::~ParallelChainCheck() { Finish().IgnoreError(); }

void ParallelChainCheck::Add(Position position, std::string_view prev_hash, std::string_view hash,
                             std::string_view body) {
  if (filling_.ends.empty()) {
    filling_.first = position;
    filling_.prev_hash.assign(prev_hash.data(), prev_hash.size());
  }
  filling_.bytes.append(hash.data(), hash.size());
  filling_.bytes.append(body.data(), body.size());
  filling_.ends.push_back(static_cast<std::uint32_t>(filling_.bytes.size()));
  if (filling_.ends.size() == kEventsPerBatch) Submit();
}

void ParallelChainCheck::Submit() {
  if (filling_.ends.empty()) return;
  std::unique_lock lock(mu_);
  space_.wait(lock, [&] { return queue_.size() < kMaxQueued; });
  queue_.push_back(std::move(filling_));
  filling_ = Batch();
  filling_.bytes.reserve(queue_.back().bytes.capacity());
  work_.notify_one();
}

void ParallelChainCheck::Hash() {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  // Fetched once: a context initialised with an implicitly fetched digest
  // pays for the lookup at every event.
  EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  for (;;) {
    Batch batch;
    {
      std::unique_lock lock(mu_);
      work_.wait(lock, [&] { return !queue_.empty() || done_; });
      if (queue_.empty()) break;
      batch = std::move(queue_.front());
      queue_.pop_front();
      space_.notify_one();
      // Past a failure already found: it cannot be the first.
      if (first_failure_ != 0 && batch.first > first_failure_) continue;
    }
    Position bad = 0;
    std::string why;
    std::string_view prev = batch.prev_hash;
    std::uint32_t begin = 0;
    for (std::size_t i = 0; i < batch.ends.size(); ++i) {
      const Position position = batch.first + i;
      const std::string_view stored(batch.bytes.data() + begin, kHashSize);
      const std::string_view body(batch.bytes.data() + begin + kHashSize,
                                  batch.ends[i] - begin - kHashSize);
      unsigned char digest[EVP_MAX_MD_SIZE];
      unsigned int length = 0;
      EVP_DigestInit_ex(ctx, sha256, nullptr);
      EVP_DigestUpdate(ctx, prev.data(), prev.size());
      EVP_DigestUpdate(ctx, body.data(), body.size());
      EVP_DigestFinal_ex(ctx, digest, &length);
      if (length != kHashSize || std::memcmp(digest, stored.data(), kHashSize) != 0) {
        bad = position;
        why = "hash does not verify";
        break;
      }
      if (StoredPosition(body) != position) {
        bad = position;
        why = "stored event does not match its key";
        break;
      }
      prev = stored;
      begin = batch.ends[i];
    }
    if (bad != 0) {
      std::lock_guard lock(mu_);
      if (first_failure_ == 0 || bad < first_failure_) {
        first_failure_ = bad;
        failure_ = absl::DataLossError(absl::StrCat("position ", bad, ": ", why));
      }
      failed_.store(true, std::memory_order_relaxed);
    }
  }
  EVP_MD_free(sha256);
  EVP_MD_CTX_free(ctx);
}

absl::Status ParallelChainCheck::Finish() {
  if (finished_) return failure_;
  finished_ = true;
  Submit();
  {
    std::lock_guard lock(mu_);
    done_ = true;
  }
  work_.notify_all();
  for (std::thread& thread : threads_) thread.join();
  return failure_;
}

}  // namespace attendance::ledger
