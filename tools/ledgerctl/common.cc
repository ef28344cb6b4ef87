#include "common.h"

#include <openssl/sha.h>

#include <algorithm>
#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"

namespace attendance::ledgerctl {

std::string Sha256Hex(absl::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::string DerivedRequestId(absl::string_view kind, const Invocation& invocation,
                             const google::protobuf::Message& request) {
  std::string bytes;
  request.SerializeToString(&bytes);
  const std::string caller = Sha256Hex(invocation.connection.options().token);
  return absl::StrCat("ledgerctl-",
                      Sha256Hex(absl::StrCat(kind, "\n", caller, "\n", bytes)).substr(0, 32));
}

std::string RandomRequestId() {
  std::random_device device;
  std::string id = "ledgerctl-";
  for (int i = 0; i < 4; ++i) absl::StrAppend(&id, absl::StrFormat("%08x", device()));
  return id;
}

std::string RequestIdFlag(const Args& args, const std::string& fallback) {
  return args.Get("request-id", fallback);
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> widths(header_.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  };
  measure(header_);
  for (const auto& row : rows_) measure(row);
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    out << line << "\n";
  };
  print(header_);
  for (const auto& row : rows_) print(row);
}

std::string EnumName(const google::protobuf::EnumDescriptor* descriptor, int number) {
  const google::protobuf::EnumValueDescriptor* value = descriptor->FindValueByNumber(number);
  return value == nullptr ? absl::StrCat(number) : value->name();
}

std::string FormatInstant(std::int64_t micros) {
  if (micros == 0) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMicros(micros), absl::UTCTimeZone());
}

std::string FormatPercent(double percent) { return absl::StrFormat("%.1f", percent); }

std::string YesNo(bool value) { return value ? "yes" : "no"; }

int PrintWriteResponse(Invocation& invocation, const google::protobuf::Message& response,
                       std::uint64_t position, std::uint64_t stream_version, bool replayed,
                       const std::string& request_id) {
  if (invocation.json) {
    PrintJson(response, invocation.out);
  } else {
    invocation.out << "position " << position << ", stream version " << stream_version
                   << (replayed ? " (replayed: already applied, nothing written)" : "")
                   << ", request id " << request_id << "\n";
  }
  return kExitOk;
}

std::string CsvField(absl::string_view value) {
  if (value.find_first_of(",\"\r\n") == absl::string_view::npos) return std::string(value);
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

std::string JsonString(absl::string_view value) {
  std::string out = "\"";
  for (unsigned char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += "\"";
  return out;
}

OutFile::OutFile(Invocation& invocation) : out_(invocation.out), path_(invocation.args.Get("out")) {
  if (path_.empty()) return;
  file_.open(path_, std::ios::binary | std::ios::trunc);
  ok_ = file_.is_open();
  if (!ok_) invocation.err << "ledgerctl: cannot write " << path_ << "\n";
}

}  // namespace attendance::ledgerctl
