#include "ledger/text_checks.h"

#include <string_view>

#include "absl/strings/str_cat.h"

namespace attendance::ledger {
namespace {

std::string Q(absl::string_view v) { return Quoted(std::string_view(v.data(), v.size())); }

}  // namespace

absl::Status CheckId(absl::string_view value, absl::string_view field) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": must not be empty"));
  if (Utf8Length(std::string_view(value.data(), value.size())) > kMaxIdLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", Q(value), " is longer than ", kMaxIdLength, " characters"));
  }
  for (char c : value) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": ", Q(value), " may only contain letters, digits and - _ . :"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckText(absl::string_view value, absl::string_view field, bool required,
                       std::size_t max_length) {
  if (required && value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must not be empty"));
  }
  const std::string_view text(value.data(), value.size());
  // Stored in a proto3 string, which readers in other languages refuse to
  // parse unless it is UTF-8.
  if (!IsValidUtf8(text)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", Q(value), " is not valid UTF-8"));
  }
  if (const std::size_t chars = Utf8Length(text); chars > max_length) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", chars, " characters is longer than ", max_length));
  }
  return absl::OkStatus();
}

absl::StatusOr<Day> CheckDate(absl::string_view value, absl::string_view field) {
  auto day = ParseDate(std::string_view(value.data(), value.size()));
  if (!day) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", Q(value), " is not a date (YYYY-MM-DD)"));
  }
  return *day;
}

}  // namespace attendance::ledger
