#include "services/token_store.h"

#include <openssl/sha.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace attendance::services {
namespace {

bool IsHexHash(absl::string_view text) {
  if (text.size() != 2 * SHA256_DIGEST_LENGTH) return false;
  for (char c : text) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("tokens file ", path, " cannot be read"));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::string TokenStore::HashToken(absl::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * SHA256_DIGEST_LENGTH);
  for (unsigned char byte : digest) {
    hex.push_back(kHex[byte >> 4]);
    hex.push_back(kHex[byte & 0xf]);
  }
  return hex;
}

absl::StatusOr<TokenStore::Table> TokenStore::Parse(absl::string_view text,
                                                    absl::string_view path) {
  Table table;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    auto error = [&](absl::string_view what) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", line_number, ": ", what));
    };
    // Three whitespace-separated fields, then the name: the rest of the line.
    std::vector<absl::string_view> fields;
    absl::string_view rest = line;
    while (fields.size() < 3 && !rest.empty()) {
      const std::size_t end = std::min(rest.find_first_of(" \t"), rest.size());
      fields.push_back(rest.substr(0, end));
      rest = absl::StripLeadingAsciiWhitespace(rest.substr(end));
    }
    fields.push_back(rest);
    if (fields.size() < 4 || fields[3].empty()) {
      return error("expected: sha256-hex role schools name");
    }
    std::string hash = absl::AsciiStrToLower(fields[0]);
    if (!IsHexHash(hash)) return error("the first field must be a token's SHA-256 in hex");
    Caller caller;
    absl::string_view role = fields[1];
    if (absl::ConsumeSuffix(&role, "+personal")) caller.personal_data = true;
    absl::StatusOr<Role> parsed = ParseRole(role);
    if (!parsed.ok()) return error(parsed.status().message());
    caller.role = *parsed;
    if (caller.personal_data && caller.role != Role::kReporter) {
      return error("+personal is a grant for reporters only (other roles see personal data)");
    }
    if (fields[2] == "*") {
      caller.all_schools = true;
    } else {
      for (absl::string_view school : absl::StrSplit(fields[2], ',', absl::SkipEmpty())) {
        caller.schools.insert(std::string(school));
      }
      if (caller.schools.empty()) return error("schools must be \"*\" or a list of school ids");
    }
    if (caller.role == Role::kAdmin && !caller.all_schools) {
      return error("an admin is for every school: give \"*\"");
    }
    caller.name = std::string(absl::StripAsciiWhitespace(fields[3]));
    if (!table.emplace(std::move(hash), std::move(caller)).second) {
      return error("the same token hash appears twice");
    }
  }
  return table;
}

absl::StatusOr<std::unique_ptr<TokenStore>> TokenStore::Load(std::string path) {
  std::unique_ptr<TokenStore> store(new TokenStore(std::move(path)));
  if (absl::Status s = store->Reload(); !s.ok()) return s;
  return store;
}

absl::Status TokenStore::Reload() {
  absl::StatusOr<std::string> text = ReadFile(path_);
  if (!text.ok()) return text.status();
  absl::StatusOr<Table> table = Parse(*text, path_);
  if (!table.ok()) return table.status();
  auto fresh = std::make_shared<const Table>(std::move(*table));
  std::lock_guard lock(mu_);
  table_ = std::move(fresh);
  return absl::OkStatus();
}

std::optional<Caller> TokenStore::Find(absl::string_view token) const {
  std::shared_ptr<const Table> table;
  {
    std::lock_guard lock(mu_);
    table = table_;
  }
  if (!table || token.empty()) return std::nullopt;
  auto it = table->find(HashToken(token));
  if (it == table->end()) return std::nullopt;
  return it->second;
}

std::size_t TokenStore::size() const {
  std::lock_guard lock(mu_);
  return table_ ? table_->size() : 0;
}

}  // namespace attendance::services
