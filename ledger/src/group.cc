#include "group.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <openssl/evp.h>

#include "keys.h"

namespace attendance::ledger {

struct ChainHasher::Context {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Context() { EVP_MD_CTX_free(ctx); }
};

ChainHasher::ChainHasher() : context_(new Context) {}

ChainHasher::~ChainHasher() { delete context_; }

std::string ChainHasher::operator()(std::string_view prev_hash, std::string_view body) {
  EVP_MD_CTX* ctx = context_->ctx;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, prev_hash.data(), prev_hash.size());
  EVP_DigestUpdate(ctx, body.data(), body.size());
  EVP_DigestFinal_ex(ctx, digest, &len);
  return std::string(reinterpret_cast<const char*>(digest), len);
}

std::string ChainHash(std::string_view prev_hash, std::string_view body) {
  return ChainHasher()(prev_hash, body);
}

Position Group::Append(v1::EventEnvelope& event, const Principal& actor,
                       const std::string& request_id) {
  const Position position = state_.last_position() + 1;
  event.set_position(position);
  event.set_recorded_at_us(now_us_);
  event.mutable_actor()->set_name(actor.name);
  event.mutable_actor()->set_role(actor.role);
  event.set_request_id(request_id);
  // The hot state sees the event before its personal fields are sealed: it
  // keeps the carers' ids that leave requests and penalty notices name.
  state_.Apply(event);
  // Sealing fails only if OpenSSL cannot draw random bytes or encrypt,
  // which leaves the process unable to keep personal data safe: stop
  // rather than store the fields in clear.
  if (absl::Status sealed = keys_.Seal(event, batch_, cf_.pupil_keys); !sealed.ok()) {
    std::fprintf(stderr, "ledger: %s\n", sealed.ToString().c_str());
    std::abort();
  }

  body_.clear();
  event.SerializeToString(&body_);
  std::string hash = hasher_(prev_hash_, body_);
  std::string value;
  value.reserve(kHashSize + body_.size());
  value.append(hash).append(body_);
  batch_.Put(cf_.events, keys::Event(position), value);

  const v1::MarkRecorded* recorded = event.has_mark_recorded() ? &event.mark_recorded() : nullptr;
  const v1::MarkAmended* amended = event.has_mark_amended() ? &event.mark_amended() : nullptr;
  if (recorded || amended) {
    std::string pos;
    keys::PutFixed64(pos, position);
    const std::string& date = recorded ? recorded->date() : amended->date();
    const v1::Session session = recorded ? recorded->session() : amended->session();
    const std::string& code = recorded ? recorded->code() : amended->amended_code();
    const Day day = ParseDate(date).value_or(0);
    std::string key = keys::Mark(event.school_id(), event.pupil_id(), day, session);
    if (!state_.IsHot(day)) pending_cold_[key] = code;
    // An amendment in the same group as its mark must win: keep arrival
    // order among equal keys when sorting.
    mark_entries_.emplace_back(std::move(key), pos + code);
  }

  prev_hash_ = std::move(hash);
  ++appended_;
  return position;
}

void Group::ErasePersonalKey(const std::string& school_id, const std::string& pupil_id) {
  keys_.Erase(school_id, pupil_id, batch_, cf_.pupil_keys);
  erased_keys_ = true;
}

void Group::Seal() {
  auto by_key = [](const auto& a, const auto& b) { return a.first < b.first; };
  std::stable_sort(mark_entries_.begin(), mark_entries_.end(), by_key);
  for (const auto& [key, value] : mark_entries_) batch_.Put(cf_.marks, key, value);
  mark_entries_.clear();
}

}  // namespace attendance::ledger
