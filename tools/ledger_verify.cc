// ledger-verify: the audit trail's offline check. Opens a data directory
// read-only (a copy of a live one, or a restored backup), recomputes the
// hash chain over a range or the whole log with progress, and checks that
// the log still extends a head signed by ledgerd (GetLedgerHead).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "absl/flags/flag.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "command_line/command_line.h"
#include "ledger/ledger.h"
#include "services/head_signer.h"
#include "services/ledger_verification.h"

ABSL_FLAG(std::string, data, "", "the ledger's data directory (opened read-only)");
ABSL_FLAG(std::string, head, "", "a signed head file to check the log against");
ABSL_FLAG(std::string, public_key, "", "the Ed25519 public key (PEM) that signed the head");
ABSL_FLAG(long long, from, 1, "first position to verify");
ABSL_FLAG(long long, to, 0, "last position to verify (0: the head)");
ABSL_FLAG(long long, progress_every, 1'000'000, "print progress every N events");
ABSL_FLAG(std::string, log_level, "warn", "trace, debug, info, warn, error");

namespace {

constexpr std::string_view kProgram = "ledger-verify";
constexpr const char* kUsage =
    R"(usage: ledger-verify --data DIR [--head FILE --public-key PEM] [flags]
  --data DIR           the ledger's data directory, opened read-only (verify a copy of a live one)
  --head FILE          a signed head to check the log against: lines "position N", "hash HEX",
                       "signature HEX" (what GetLedgerHead returns, hex-encoded)
  --public-key PEM     the Ed25519 public key (or the private key) the head was signed with
  --from N             first position to verify (default 1)
  --to N               last position to verify (default 0: the head)
  --progress-every N   print progress to stderr every N events (default 1000000)
  --log-level LEVEL    trace, debug, info, warn, error (default warn)
Exits 0 if the chain verifies (and the log extends the head, signature valid),
1 if not, naming the first failing position, 2 on bad usage.
)";

// A head file: "position N", "hash HEX", "signature HEX" lines.
std::optional<attendance::v1::SignedHead> ReadHead(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read " + path;
    return std::nullopt;
  }
  attendance::v1::SignedHead head;
  std::string name, value;
  while (in >> name >> value) {
    if (name == "position") {
      std::uint64_t position = 0;
      if (!absl::SimpleAtoi(value, &position)) {
        error = "position: \"" + value + "\" is not a number";
        return std::nullopt;
      }
      head.set_position(position);
    } else if (name == "hash" || name == "signature") {
      std::string bytes = absl::HexStringToBytes(value);
      if (absl::BytesToHexString(bytes) != absl::AsciiStrToLower(value)) {
        error = name + ": not hex";
        return std::nullopt;
      }
      (name == "hash" ? *head.mutable_hash() : *head.mutable_signature()) = std::move(bytes);
    }
  }
  if (head.position() == 0 || head.hash().size() != 32) {
    error = path + ": needs \"position N\" and a 32-byte \"hash HEX\"";
    return std::nullopt;
  }
  return head;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> rest =
      attendance::tools::ParseFlagsOrExit(argc, argv, kProgram, kUsage);
  if (!rest.empty()) attendance::tools::ExitBadUsage(kProgram, "unexpected argument " + rest[0]);
  spdlog::set_level(spdlog::level::from_str(absl::GetFlag(FLAGS_log_level)));
  const std::string data = absl::GetFlag(FLAGS_data);
  if (data.empty()) attendance::tools::ExitBadUsage(kProgram, "--data is required");
  const auto from =
      static_cast<std::uint64_t>(attendance::tools::FlagAtLeast(kProgram, FLAGS_from, 1));
  const auto to = static_cast<std::uint64_t>(attendance::tools::FlagAtLeast(kProgram, FLAGS_to, 0));
  const auto every =
      static_cast<std::uint64_t>(attendance::tools::FlagAtLeast(kProgram, FLAGS_progress_every, 1));

  std::optional<attendance::v1::SignedHead> head;
  std::string public_key;
  if (const std::string head_file = absl::GetFlag(FLAGS_head); !head_file.empty()) {
    std::string error;
    head = ReadHead(head_file, error);
    if (!head) attendance::tools::ExitBadUsage(kProgram, "--head: " + error);
    const std::string key_file = absl::GetFlag(FLAGS_public_key);
    if (key_file.empty()) {
      attendance::tools::ExitBadUsage(kProgram, "--head needs --public-key");
    }
    auto key = attendance::services::ReadEd25519PublicKey(key_file);
    if (!key.ok()) attendance::tools::ExitBadUsage(kProgram, std::string(key.status().message()));
    public_key = std::move(*key);
  }

  attendance::ledger::LedgerOptions options;
  options.data_dir = data;
  options.read_only = true;
  auto ledger = attendance::ledger::Ledger::Open(options);
  if (!ledger.ok()) {
    std::cout << "FAILED: cannot open " << data << ": " << ledger.status().message() << "\n";
    return 1;
  }
  auto result = attendance::services::VerifyLedgerRange(
      **ledger, from, to, every, head ? &*head : nullptr, public_key,
      [](const attendance::v1::VerifyLedgerProgress& progress) {
        std::cerr << "verified " << progress.from_position() << ".." << progress.verified_through()
                  << " of " << progress.to_position() << "\n";
        return true;
      });
  if (!result.ok()) {
    std::cout << "FAILED: " << result.status().message() << "\n";
    return 1;
  }
  int exit_code = 0;
  if (result->ok()) {
    std::cout << "OK: hash chain verifies over positions " << result->from_position() << ".."
              << result->to_position() << "\n";
  } else {
    std::cout << "FAILED: DATA_LOSS at position " << result->first_failing_position() << ": "
              << result->failure() << "\n";
    exit_code = 1;
  }
  if (head) {
    const auto& check = result->head_check();
    const bool good = check.signature_valid() && check.log_extends_head();
    std::cout << (good ? "OK" : "FAILED") << ": head at position " << head->position()
              << ": signature " << (check.signature_valid() ? "valid" : "INVALID") << ", log "
              << (check.log_extends_head() ? "extends it" : "DOES NOT extend it") << " ("
              << check.detail() << ")\n";
    if (!good) exit_code = 1;
  }
  return exit_code;
}
