// Helpers the subcommand files share: stubs, request ids, plain tables, and
// the text forms of enums and instants.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <ostream>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include "cli.h"
#include "connection.h"
#include "google/protobuf/message.h"

namespace attendance::ledgerctl {

// A stub on the invocation's channel; exits 3 when a TLS file cannot be read.
template <typename Service>
std::unique_ptr<typename Service::Stub> NewStub(Invocation& invocation) {
  std::string error;
  std::shared_ptr<grpc::Channel> channel = invocation.connection.Channel(error);
  if (channel == nullptr) {
    invocation.err << "ledgerctl: " << error << "\n";
    std::exit(kExitInvalid);
  }
  return Service::NewStub(channel);
}

// "ledgerctl-" and 32 hex digits of SHA-256 over `kind`, the caller's token
// and the message's bytes: the same caller's same request always gets the
// same id, so running a command or an import again is answered from the
// ledger's request log and writes nothing. (The token is in the hash because
// the ledger answers a request id only to the principal that used it first:
// another caller's run gets its own ids, and its rows are then found already
// there.) The request's own request_id must be empty when it is hashed.
std::string DerivedRequestId(absl::string_view kind, const Invocation& invocation,
                             const google::protobuf::Message& request);
// 32 random hex digits, for writes that may legitimately be repeated
// (settings set back to an earlier value).
std::string RandomRequestId();
// Lower-case hex SHA-256.
std::string Sha256Hex(absl::string_view bytes);

// --request-id, or `fallback`.
std::string RequestIdFlag(const Args& args, const std::string& fallback);

// A table of left-aligned columns, two spaces apart, for humans.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print(std::ostream& out) const;
  bool empty() const { return rows_.empty(); }

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// An enum value's name from its number ("AM", "MARK_RECORDED").
std::string EnumName(const google::protobuf::EnumDescriptor* descriptor, int number);
// Microseconds since the epoch as "2025-09-08T10:15:00Z"; "" for 0.
std::string FormatInstant(std::int64_t micros);
// "93.5"
std::string FormatPercent(double percent);
std::string YesNo(bool value);

// A write's one-line answer: position, stream version, replayed.
int PrintWriteResponse(Invocation& invocation, const google::protobuf::Message& response,
                       std::uint64_t position, std::uint64_t stream_version, bool replayed,
                       const std::string& request_id);

// Quotes a CSV field when it needs it (RFC 4180).
std::string CsvField(absl::string_view value);
// A JSON string literal.
std::string JsonString(absl::string_view value);

// Where a subcommand writes a file's worth of output: the file named by
// --out (created or truncated), or standard output without it. ok() is
// false, after saying so on standard error, when --out cannot be opened.
class OutFile {
 public:
  explicit OutFile(Invocation& invocation);
  bool ok() const { return ok_; }
  const std::string& path() const { return path_; }  // empty: standard output
  std::ostream& stream() { return file_.is_open() ? file_ : out_; }

 private:
  std::ostream& out_;
  std::string path_;
  std::ofstream file_;
  bool ok_ = true;
};

}  // namespace attendance::ledgerctl
