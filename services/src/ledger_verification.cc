#include "services/ledger_verification.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/head_signer.h"

namespace attendance::services {
namespace {

// The ledger's DATA_LOSS messages from a chain check start "position N"
// (ledger/src/event_reader.cc: a bad hash, a mismatched key or a gap).
ledger::Position FirstPositionIn(std::string_view message, ledger::Position fallback) {
  constexpr std::string_view kWord = "position ";
  const std::size_t at = message.find(kWord);
  if (at == std::string_view::npos) return fallback;
  std::size_t end = at + kWord.size();
  while (end < message.size() && std::isdigit(static_cast<unsigned char>(message[end]))) ++end;
  ledger::Position position = 0;
  const std::string_view digits = message.substr(at + kWord.size(), end - at - kWord.size());
  if (!absl::SimpleAtoi(absl::string_view(digits.data(), digits.size()), &position)) {
    return fallback;
  }
  return position;
}

v1::HeadCheck CheckHead(const ledger::Ledger& ledger, const v1::SignedHead& head,
                        std::string_view public_key, const v1::VerifyLedgerProgress& result) {
  v1::HeadCheck check;
  if (public_key.empty()) {
    check.set_detail("no public key to check the head's signature with; ");
  } else {
    check.set_signature_valid(
        VerifyHeadSignature(public_key, head.position(), head.hash(), head.signature()));
    if (!check.signature_valid()) check.set_detail("the head's signature does not verify; ");
  }
  std::string detail;
  if (head.position() == 0 || head.position() < result.from_position() ||
      head.position() > result.to_position()) {
    detail = absl::StrCat("head position ", head.position(), " is outside the verified range ",
                          result.from_position(), "..", result.to_position());
  } else if (!result.ok() && result.first_failing_position() <= head.position()) {
    detail = absl::StrCat("the chain fails at position ", result.first_failing_position(),
                          ", at or before the head");
  } else if (absl::StatusOr<std::string> hash = HashAt(ledger, head.position()); !hash.ok()) {
    detail = absl::StrCat("cannot read position ", head.position(), ": ", hash.status().message());
  } else if (*hash != head.hash()) {
    detail = absl::StrCat("the log holds another hash at position ", head.position(),
                          ": it does not extend the head");
  } else {
    check.set_log_extends_head(result.ok() || result.first_failing_position() > head.position());
    detail = absl::StrCat("the log holds the head's hash at position ", head.position());
    if (!result.ok()) absl::StrAppend(&detail, ", but fails after it");
  }
  check.set_detail(check.detail() + detail);
  return check;
}

}  // namespace

absl::StatusOr<std::string> HashAt(const ledger::Ledger& ledger, ledger::Position position) {
  ledger::EventChunk chunk;
  if (absl::Status s = ledger.ReadChunk(position, {1, 1}, chunk); !s.ok()) return s;
  if (chunk.events.empty() || chunk.events[0].position() != position) {
    return absl::NotFoundError(absl::StrCat("position ", position, " is past the head"));
  }
  return chunk.events[0].hash();
}

absl::StatusOr<v1::VerifyLedgerProgress> VerifyLedgerRange(
    const ledger::Ledger& ledger, ledger::Position from, ledger::Position to, std::uint64_t every,
    const v1::SignedHead* head, std::string_view public_key,
    const std::function<bool(const v1::VerifyLedgerProgress&)>& progress) {
  const ledger::Position last = ledger.LastPosition();
  if (from == 0) from = 1;
  if (to == 0) to = last;
  if (to > last) {
    return absl::InvalidArgumentError(
        absl::StrCat("to_position: ", to, " is past the head (", last, ")"));
  }
  if (from > to && !(from == 1 && to == 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("from_position: ", from, " is after to_position ", to));
  }
  if (every == 0) every = 100'000;
  v1::VerifyLedgerProgress message;
  message.set_from_position(from);
  message.set_to_position(to);
  message.set_verified_through(from - 1);
  message.set_ok(true);
  message.set_result_code("OK");
  for (ledger::Position start = from; start <= to;) {
    const ledger::Position end = std::min<ledger::Position>(to, start + every - 1);
    absl::Status status = ledger.VerifyChain(start, end);
    if (absl::IsDataLoss(status)) {
      message.set_ok(false);
      message.set_result_code("DATA_LOSS");
      message.set_first_failing_position(FirstPositionIn(
          std::string_view(status.message().data(), status.message().size()), start));
      message.set_verified_through(message.first_failing_position() - 1);
      message.set_failure(std::string(status.message()));
      break;
    }
    if (!status.ok()) return status;
    message.set_verified_through(end);
    start = end + 1;
    if (start <= to && !progress(message)) return absl::CancelledError("verification cancelled");
  }
  message.set_done(true);
  if (head != nullptr)
    *message.mutable_head_check() = CheckHead(ledger, *head, public_key, message);
  return message;
}

}  // namespace attendance::services
