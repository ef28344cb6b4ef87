#include "cli.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "connection.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"

namespace attendance::ledgerctl {
namespace {

constexpr absl::string_view kProgram = "ledgerctl";

std::string GetEnv(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

void PrintOptions(const std::vector<Option>& options, std::ostream& out) {
  for (const Option& option : options) {
    std::string left = "  --" + option.name;
    if (!option.value.empty()) absl::StrAppend(&left, " ", option.value);
    if (left.size() < 28)
      left.resize(28, ' ');
    else
      left += "  ";
    out << left << option.help << (option.repeated ? " (repeatable)" : "") << "\n";
  }
}

void PrintCommandUsage(const Command& command, std::ostream& out) {
  out << "usage: ledgerctl " << command.name << " [flags]"
      << (command.positional.empty() ? "" : " " + command.positional) << "\n"
      << command.summary << "\n";
  if (!command.options.empty()) {
    out << "flags:\n";
    PrintOptions(command.options, out);
  }
  out << "global flags:\n";
  PrintOptions(GlobalOptions(), out);
}

void PrintUsage(const std::vector<Command>& commands, std::ostream& out) {
  out << "usage: ledgerctl COMMAND [flags] [args]\n"
         "A command-line client of ledgerd. `ledgerctl COMMAND --help` lists a command's flags.\n";
  std::string group;
  for (const Command& command : commands) {
    if (command.group != group) {
      group = command.group;
      out << "\n" << group << ":\n";
    }
    std::string left = "  " + command.name;
    if (left.size() < 24) left.resize(24, ' ');
    out << left << command.summary << "\n";
  }
  out << "\nglobal flags:\n";
  PrintOptions(GlobalOptions(), out);
  out << "\nexit codes: 0 ok, 1 failed, 2 usage, 3 invalid argument, 4 not found,\n"
         "5 unauthenticated or permission denied, 6 unavailable (retry), 7 failed precondition,\n"
         "already exists or aborted, 8 import partly written (some rows rejected)\n";
}

const Option* FindOption(const std::vector<Option>& options, absl::string_view name) {
  for (const Option& option : options) {
    if (option.name == name) return &option;
  }
  return nullptr;
}

[[noreturn]] void UsageExit(const Command& command, absl::string_view message) {
  std::cerr << kProgram << " " << command.name << ": " << message << "\n"
            << "(ledgerctl " << command.name << " --help lists its flags)\n";
  std::exit(kExitUsage);
}

// `--name value`, `--name=value`, a switch alone (or `--name=true|false`);
// `--` ends the flags.
Args ParseArgs(const Command& command, int argc, char** argv, int first) {
  std::map<std::string, std::vector<std::string>> values;
  std::vector<std::string> positional;
  for (int i = first; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") {
      positional.insert(positional.end(), argv + i + 1, argv + argc);
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      positional.emplace_back(arg);
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      PrintCommandUsage(command, std::cout);
      std::exit(kExitOk);
    }
    const size_t eq = arg.find('=');
    const std::string spelt(arg.substr(0, eq));
    const std::string name = spelt.substr(std::min(spelt.find_first_not_of('-'), spelt.size()));
    const Option* option = FindOption(command.options, name);
    if (option == nullptr) option = FindOption(GlobalOptions(), name);
    if (option == nullptr || spelt.rfind("--", 0) != 0) UsageExit(command, "unknown flag " + spelt);
    std::string value;
    if (option->value.empty()) {
      const std::string given =
          eq == absl::string_view::npos ? "true" : std::string(arg.substr(eq + 1));
      if (given == "false") {
        values.erase(name);
        continue;
      }
      if (given != "true") UsageExit(command, spelt + ": \"" + given + "\" is not true or false");
      value = given;
    } else if (eq != absl::string_view::npos) {
      value = std::string(arg.substr(eq + 1));
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      UsageExit(command, spelt + " needs a value");
    }
    std::vector<std::string>& slot = values[name];
    if (!option->repeated) slot.clear();
    slot.push_back(std::move(value));
  }
  const int count = static_cast<int>(positional.size());
  if (count < command.min_positional) {
    UsageExit(command,
              command.positional.empty() ? "missing argument" : "missing " + command.positional);
  }
  if (count > command.max_positional)
    UsageExit(command,
              "unexpected argument " + positional[static_cast<size_t>(command.max_positional)]);
  return Args(command.name, std::move(values), std::move(positional));
}

ConnectionOptions ConnectionFrom(const Args& args) {
  ConnectionOptions options;
  const std::string env_address = GetEnv("LEDGER_ADDRESS");
  options.address = args.Get("address", env_address.empty() ? options.address : env_address);
  options.token = args.Get("token", GetEnv("LEDGER_TOKEN"));
  options.tls = args.Switch("tls");
  options.tls_ca = args.Get("tls-ca", GetEnv("LEDGER_TLS_CA"));
  options.tls_cert = args.Get("tls-cert");
  options.tls_key = args.Get("tls-key");
  options.tls_server_name = args.Get("tls-server-name");
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    args.Fail("--tls-cert and --tls-key go together");
  }
  options.deadline = std::chrono::seconds(args.Int("deadline", 30, 1, 86400));
  return options;
}

}  // namespace

int ExitCodeFor(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return kExitOk;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return kExitInvalid;
    case grpc::StatusCode::NOT_FOUND:
      return kExitNotFound;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return kExitDenied;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return kExitUnavailable;
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return kExitConflict;
    default:
      return kExitFailed;
  }
}

const std::vector<Option>& GlobalOptions() {
  static const std::vector<Option> options = {
      {"address", "HOST:PORT", "ledgerd's address (default $LEDGER_ADDRESS, else 127.0.0.1:50051)"},
      {"token", "TOKEN", "bearer token (default $LEDGER_TOKEN; none: a local-mode server)"},
      {"tls", "", "connect with TLS (gRPC's default roots unless --tls-ca)"},
      {"tls-ca", "FILE",
       "CA certificate (PEM) the server's is checked against; implies --tls "
       "(default $LEDGER_TLS_CA)"},
      {"tls-cert", "FILE", "client certificate (PEM), for a server that requires one"},
      {"tls-key", "FILE", "the client certificate's key (PEM)"},
      {"tls-server-name", "NAME", "name to check in the server's certificate"},
      {"deadline", "SECONDS", "each call's deadline (default 30)"},
      {"json", "", "print protobuf's JSON mapping, one object a line, instead of tables"},
  };
  return options;
}

bool Args::Has(absl::string_view name) const { return values_.count(std::string(name)) > 0; }

std::string Args::Get(absl::string_view name, absl::string_view fallback) const {
  auto it = values_.find(std::string(name));
  return it == values_.end() ? std::string(fallback) : it->second.back();
}

std::string Args::Required(absl::string_view name) const {
  if (!Has(name)) Fail(absl::StrCat("--", name, " is required"));
  return Get(name);
}

std::vector<std::string> Args::All(absl::string_view name) const {
  auto it = values_.find(std::string(name));
  return it == values_.end() ? std::vector<std::string>() : it->second;
}

long long Args::Int(absl::string_view name, long long fallback, long long min,
                    long long max) const {
  if (!Has(name)) return fallback;
  const std::string text = Get(name);
  long long value = 0;
  if (!absl::SimpleAtoi(text, &value)) {
    Fail(absl::StrCat("--", name, ": \"", text, "\" is not a whole number"));
  }
  if (value < min || value > max) {
    Fail(absl::StrCat("--", name, " ", value, ": must be from ", min, " to ", max));
  }
  return value;
}

double Args::Double(absl::string_view name, double fallback) const {
  if (!Has(name)) return fallback;
  const std::string text = Get(name);
  double value = 0;
  if (!absl::SimpleAtod(text, &value))
    Fail(absl::StrCat("--", name, ": \"", text, "\" is not a number"));
  return value;
}

void Args::Fail(absl::string_view message) const {
  std::cerr << kProgram << " " << command_ << ": " << message << "\n"
            << "(ledgerctl " << command_ << " --help lists its flags)\n";
  std::exit(kExitUsage);
}

int Main(const std::vector<Command>& commands, int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(commands, std::cerr);
    return kExitUsage;
  }
  const absl::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    PrintUsage(commands, std::cout);
    return kExitOk;
  }
  auto command = std::find_if(commands.begin(), commands.end(),
                              [&](const Command& c) { return c.name == name; });
  if (command == commands.end()) {
    std::cerr << kProgram << ": unknown command " << name << " (ledgerctl --help lists them)\n";
    return kExitUsage;
  }
  const Args args = ParseArgs(*command, argc, argv, 2);
  Connection connection(ConnectionFrom(args));
  Invocation invocation{args, connection, args.Switch("json"), std::cout, std::cerr};
  return command->run(invocation);
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) {
    return "{}";  // only for messages that are not valid UTF-8, which the server never sends
  }
  return json;
}

void PrintJson(const google::protobuf::Message& message, std::ostream& out) {
  out << ToJson(message) << "\n";
}

int ReportRpcError(const grpc::Status& status, absl::string_view method, std::ostream& err) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  const int code = static_cast<int>(status.error_code());
  const char* code_name = code >= 0 && code <= 16 ? kNames[code] : "UNKNOWN";
  err << kProgram << ": " << method << ": " << code_name << ": " << status.error_message() << "\n";
  return ExitCodeFor(status);
}

void ReadMessageFile(const std::string& path, google::protobuf::Message& message) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << kProgram << ": " << path << ": cannot read\n";
    std::exit(kExitInvalid);
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    const auto status = google::protobuf::util::JsonStringToMessage(text, &message);
    if (!status.ok()) {
      std::cerr << kProgram << ": " << path << ": not a " << message.GetTypeName()
                << " in JSON: " << status.ToString() << "\n";
      std::exit(kExitInvalid);
    }
    return;
  }
  if (!google::protobuf::TextFormat::ParseFromString(text, &message)) {
    std::cerr << kProgram << ": " << path << ": not a " << message.GetTypeName()
              << " in protobuf text format (or JSON starting with '{'); see the message above\n";
    std::exit(kExitInvalid);
  }
}

int ParseEnumFlag(const Args& args, absl::string_view flag, absl::string_view text,
                  const google::protobuf::EnumDescriptor* descriptor) {
  std::string wanted = absl::AsciiStrToUpper(absl::StrReplaceAll(text, {{"-", "_"}}));
  std::string names;
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* value = descriptor->value(i);
    if (value->number() == 0) continue;
    if (value->name() == wanted) return value->number();
    absl::StrAppend(&names, names.empty() ? "" : ", ", value->name());
  }
  args.Fail(absl::StrCat("--", flag, ": \"", text, "\" is not one of ", names));
}

}  // namespace attendance::ledgerctl
