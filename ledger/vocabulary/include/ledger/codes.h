#pragma once

#include <string_view>

#include "ledger/types.h"

namespace attendance::ledger {

// How a register code counts (../shared/domain.md §1 and §3).
enum class CodeCategory {
  kPresent,              // / \ L
  kEducationalActivity,  // K V P W B (legacy J): attended
  kAuthorisedAbsence,    // C1 M J1 S C2 C E I R T (legacy H, F)
  kUnauthorisedAbsence,  // G U O N
  kNotPossible,          // D X Q Y1..Y7 Z # (legacy Y)
};

struct CodeInfo {
  std::string_view code;
  CodeCategory category;
  bool possible() const { return category != CodeCategory::kNotPossible; }
  bool attended() const {
    return category == CodeCategory::kPresent || category == CodeCategory::kEducationalActivity;
  }
};

// The 2024 code set applies to sessions on or after this day (2024-08-19).
Day CodeSet2024Start();

// The code's meaning for a session on `day`, or nullptr if the code does not
// exist or is not valid on that day (2024 codes before the cut-over, removed
// legacy codes after it). Cheap: no allocation.
const CodeInfo* LookupCode(std::string_view code, Day day);

// Whether the code exists in either code set (for error messages).
bool IsKnownCode(std::string_view code);

// Codes that carry minutes late.
inline bool TakesMinutesLate(std::string_view code) { return code == "L" || code == "U"; }

}  // namespace attendance::ledger
