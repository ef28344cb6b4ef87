// Subcommands of attendance.v1.Audit that check the log itself:
// verify-ledger (VerifyLedger, against a kept head file if given) and
// ledger-head (GetLedgerHead, written as a head file). The reads of marks,
// registers and timelines are in audit_commands.cc.
#include <grpcpp/client_context.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "attendance/v1/audit_service.grpc.pb.h"
#include "command_table.h"
#include "common.h"

namespace attendance::ledgerctl {
namespace {

namespace v1 = ::attendance::v1;

// The head file: "position N", "hash HEX", "signature HEX" (what
// ledger-verify --head reads) and "public_key HEX" lines.
std::string HeadFileText(const v1::SignedHead& head) {
  return absl::StrCat("position ", head.position(), "\nhash ", absl::BytesToHexString(head.hash()),
                      "\nsignature ", absl::BytesToHexString(head.signature()), "\npublic_key ",
                      absl::BytesToHexString(head.public_key()), "\n");
}

// Reads a head file as ledger-head writes it, or a SignedHead in JSON (what
// ledger-head --json prints). Exits 3 naming the file when it is neither.
v1::SignedHead ReadHeadFile(Invocation& invocation, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    invocation.err << "ledgerctl: " << path << ": cannot read\n";
    std::exit(kExitInvalid);
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  v1::SignedHead head;
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    ReadMessageFile(path, head);
    return head;
  }
  std::istringstream lines(text);
  std::string name, value;
  while (lines >> name >> value) {
    std::string* bytes = name == "hash"         ? head.mutable_hash()
                         : name == "signature"  ? head.mutable_signature()
                         : name == "public_key" ? head.mutable_public_key()
                                                : nullptr;
    std::uint64_t position = 0;
    if (name == "position" && absl::SimpleAtoi(value, &position)) {
      head.set_position(position);
    } else if (bytes != nullptr && absl::BytesToHexString(absl::HexStringToBytes(value)) ==
                                       absl::AsciiStrToLower(value)) {
      *bytes = absl::HexStringToBytes(value);
    } else {
      invocation.err << "ledgerctl: " << path << ": \"" << name << " " << value
                     << "\" is not a head line (position N, hash HEX, signature HEX)\n";
      std::exit(kExitInvalid);
    }
  }
  if (head.position() == 0 || head.hash().size() != 32) {
    invocation.err << "ledgerctl: " << path
                   << ": needs \"position N\" and a 32-byte \"hash HEX\"\n";
    std::exit(kExitInvalid);
  }
  return head;
}

int VerifyLedger(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::VerifyLedgerRequest request;
  request.set_from_position(static_cast<std::uint64_t>(args.Int("from", 0, 0, INT64_MAX)));
  request.set_to_position(static_cast<std::uint64_t>(args.Int("to", 0, 0, INT64_MAX)));
  request.set_progress_every(
      static_cast<std::uint64_t>(args.Int("progress-every", 0, 0, 10000000)));
  if (args.Has("head")) *request.mutable_head() = ReadHeadFile(invocation, args.Get("head"));
  auto stub = NewStub<v1::Audit>(invocation);
  grpc::ClientContext context;
  // A whole log takes as long as it takes; --deadline bounds it when given.
  if (args.Has("deadline")) {
    invocation.connection.Prepare(context);
  } else {
    invocation.connection.PrepareUnbounded(context);
  }
  auto reader = stub->VerifyLedger(&context, request);
  v1::VerifyLedgerProgress progress, result;
  while (reader->Read(&progress)) {
    if (progress.done()) {
      result = progress;
    } else if (!args.Switch("quiet")) {
      invocation.err << "verified " << progress.from_position() << ".."
                     << progress.verified_through() << " of " << progress.to_position() << "\n";
    }
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) return ReportRpcError(status, "VerifyLedger", invocation.err);
  const v1::HeadCheck& check = result.head_check();
  const bool head_good =
      !request.has_head() || (check.signature_valid() && check.log_extends_head());
  if (invocation.json) {
    PrintJson(result, invocation.out);
  } else {
    if (result.ok()) {
      invocation.out << "OK: hash chain verifies over positions " << result.from_position() << ".."
                     << result.to_position() << "\n";
    } else {
      invocation.out << "FAILED: " << result.result_code() << " at position "
                     << result.first_failing_position() << ": " << result.failure() << "\n";
    }
    if (request.has_head()) {
      invocation.out << (head_good ? "OK" : "FAILED") << ": head at position "
                     << request.head().position() << ": signature "
                     << (check.signature_valid() ? "valid" : "INVALID") << ", log "
                     << (check.log_extends_head() ? "extends it" : "does NOT extend it")
                     << (check.detail().empty() ? "" : ": " + check.detail()) << "\n";
    }
  }
  return result.ok() && head_good ? kExitOk : kExitFailed;
}

int GetLedgerHead(Invocation& invocation) {
  const Args& args = invocation.args;
  auto stub = NewStub<v1::Audit>(invocation);
  grpc::ClientContext context;
  invocation.connection.Prepare(context);
  v1::SignedHead head;
  const grpc::Status status = stub->GetLedgerHead(&context, v1::GetLedgerHeadRequest(), &head);
  if (!status.ok()) return ReportRpcError(status, "GetLedgerHead", invocation.err);
  if (args.Has("out")) {
    std::ofstream file(args.Get("out"), std::ios::binary | std::ios::trunc);
    file << HeadFileText(head);
    if (!file.flush()) {
      invocation.err << "ledgerctl: cannot write " << args.Get("out") << "\n";
      return kExitInvalid;
    }
  }
  if (invocation.json) {
    PrintJson(head, invocation.out);
  } else {
    invocation.out << HeadFileText(head);
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> AuditHeadCommands() {
  const std::string group = "attendance.v1.Audit";
  return {
      {"verify-ledger",
       group,
       "VerifyLedger: recomputes the hash chain (progress on stderr); exits 1 if it fails",
       "",
       {{"from", "POSITION", "first position (default 1)"},
        {"to", "POSITION", "last position (default: the head when the call starts)"},
        {"progress-every", "N", "a progress line every N events, 1000..10000000 (default 100000)"},
        {"head", "FILE",
         "a signed head (from ledger-head --out, or its --json) the log must still extend"},
        {"quiet", "", "no progress lines"}},
       VerifyLedger},
      {"ledger-head",
       group,
       "GetLedgerHead: the last position and its hash, signed by the server's --head-key",
       "",
       {{"out", "FILE", "also write it here, for verify-ledger --head and ledger-verify --head"}},
       GetLedgerHead},
  };
}

}  // namespace attendance::ledgerctl
