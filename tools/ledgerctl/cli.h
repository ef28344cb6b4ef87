// The frame every ledgerctl subcommand runs in: its declared options (parsed
// from `--name value`, `--name=value`, a switch alone), its usage text, the
// connection to ledgerd, the output mode (tables or protobuf JSON) and the
// exit code that says what happened.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include <grpcpp/support/status.h>

#include "google/protobuf/message.h"

namespace attendance::ledgerctl {

// Exit codes, documented in the README ("ledgerctl"). A gRPC status maps to
// one by what the caller does next (ExitCodeFor).
enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,       // INTERNAL, DATA_LOSS, UNKNOWN and anything else
  kExitUsage = 2,        // bad command line
  kExitInvalid = 3,      // INVALID_ARGUMENT, OUT_OF_RANGE; a bad input file or row
  kExitNotFound = 4,     // NOT_FOUND
  kExitDenied = 5,       // UNAUTHENTICATED, PERMISSION_DENIED
  kExitUnavailable = 6,  // UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED (retry later)
  kExitConflict = 7,     // FAILED_PRECONDITION, ALREADY_EXISTS, ABORTED
  kExitPartial = 8,      // an import wrote its valid rows and rejected others
};

int ExitCodeFor(const grpc::Status& status);

// One option of a subcommand. An empty `value` makes it a switch.
struct Option {
  std::string name;   // "school" is spelt --school
  std::string value;  // what the usage shows, e.g. "ID"
  std::string help;
  bool repeated = false;
};

// The parsed command line of one subcommand. The typed getters print the
// problem and exit 2 (bad usage) when a value does not parse.
class Args {
 public:
  Args(std::string command, std::map<std::string, std::vector<std::string>> values,
       std::vector<std::string> positional)
      : command_(std::move(command)),
        values_(std::move(values)),
        positional_(std::move(positional)) {}

  bool Has(absl::string_view name) const;
  std::string Get(absl::string_view name, absl::string_view fallback = "") const;
  // Exits 2 naming --name when it is missing.
  std::string Required(absl::string_view name) const;
  std::vector<std::string> All(absl::string_view name) const;
  bool Switch(absl::string_view name) const { return Has(name); }
  long long Int(absl::string_view name, long long fallback, long long min, long long max) const;
  double Double(absl::string_view name, double fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }

  [[noreturn]] void Fail(absl::string_view message) const;

 private:
  std::string command_;
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
};

class Connection;

// What a subcommand's Run gets.
struct Invocation {
  const Args& args;
  Connection& connection;
  bool json;
  std::ostream& out;
  std::ostream& err;
};

// A subcommand. `group` heads its block in `ledgerctl --help` (by
// convention the service it calls).
struct Command {
  std::string name;
  std::string group;
  std::string summary;
  std::string positional;  // e.g. "FILE"; empty: none allowed
  std::vector<Option> options;
  std::function<int(Invocation&)> run;
  // At least this many and at most this many positional arguments.
  int min_positional = 0;
  int max_positional = 0;
};

// Options every subcommand takes (address, token, TLS, deadline, --json).
const std::vector<Option>& GlobalOptions();

// Runs argv against the command table; returns the exit code.
int Main(const std::vector<Command>& commands, int argc, char** argv);

// --json: one line of protobuf's JSON mapping (field names as in the .proto,
// every field printed, also defaults).
void PrintJson(const google::protobuf::Message& message, std::ostream& out);
std::string ToJson(const google::protobuf::Message& message);

// Prints `ledgerctl: METHOD: CODE: message` to err and returns its exit code.
int ReportRpcError(const grpc::Status& status, absl::string_view method, std::ostream& err);

// Reads a message from a file: protobuf's JSON mapping when the file's first
// non-blank character is `{`, else protobuf text format. Exits 3 naming the
// file when it cannot be read or parsed.
void ReadMessageFile(const std::string& path, google::protobuf::Message& message);

// Parses an enum value from its name, case-insensitively and with `-` for
// `_` ("am", "mark-recorded", "MARK_RECORDED"). Exits 2 naming --flag, and
// listing the names, when it is none of them.
int ParseEnumFlag(const Args& args, absl::string_view flag, absl::string_view text,
                  const google::protobuf::EnumDescriptor* descriptor);

}  // namespace attendance::ledgerctl
