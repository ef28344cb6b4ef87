#pragma once

#include <cstdint>
#include <string_view>

#include "ledger/codes.h"
#include "ledger/types.h"

namespace attendance::projections {

// A register code as a small integer, so that a pupil's year of marks fits in
// 732 bytes and counting a window is a histogram over bytes. 0 = no mark.
using CodeIndex = std::uint8_t;

// Slot 0 (no mark) plus every code of both code sets (ledger/codes.h).
inline constexpr int kNumCodes = 39;

// The index of `code`, or 0 if it is not a known code. Cheap: a table lookup.
CodeIndex CodeIndexOf(std::string_view code);

// The code's text ("/", "C1", ...); "" for 0.
std::string_view CodeName(CodeIndex index);

// How the code counts. Categories do not depend on the code set: a code that
// changed meaning (J) was replaced by a new code (J1), never redefined.
ledger::CodeCategory CategoryOf(CodeIndex index);

// Whether the code is valid for a session on `day` (same rule as
// ledger::LookupCode). The fold ignores marks that are not.
bool ValidOn(CodeIndex index, ledger::Day day);

}  // namespace attendance::projections
