#pragma once

#include <cstddef>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ledger/types.h"

namespace attendance::ledger {

// Limits on what a client may send (README, "Limits"). Lengths count UTF-8
// characters, not bytes.
inline constexpr std::size_t kMaxIdLength = 64;
inline constexpr std::size_t kMaxTextLength = 2000;
// Names (pupils' given and family names, class names): short enough that a
// page of 1,000 pupils stays a small reply.
inline constexpr std::size_t kMaxNameLength = 100;

// Each check returns OK or INVALID_ARGUMENT whose message names the field
// and value.
absl::Status CheckId(absl::string_view value, absl::string_view field);
absl::Status CheckText(absl::string_view value, absl::string_view field, bool required,
                       std::size_t max_length = kMaxTextLength);
absl::StatusOr<Day> CheckDate(absl::string_view value, absl::string_view field);

}  // namespace attendance::ledger
