#pragma once

#include <array>
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

// Which code sets a code belongs to (CodeEntry::eras, a bit set).
enum CodeSets : unsigned { kCodeSetLegacy = 1, kCodeSet2024 = 2, kBothCodeSets = 3 };

struct CodeEntry {
  CodeInfo info;
  unsigned eras;
};

// ../shared/domain.md §1 (2024 set) and §1a (legacy handling). Legacy J was
// an approved educational activity; its 2024 successor J1 is an authorised
// absence, so history keeps J's old meaning and J is refused after the
// cut-over.
//
// The one code table: every code of both sets and its meaning. Append new
// codes at the end, never reorder: the projections number codes
// by this order in their checkpoints (a static_assert in
// projections/src/code_table.cc holds their frozen list to it).
inline constexpr std::array kCodeTable = {
    CodeEntry{{"/", CodeCategory::kPresent}, kBothCodeSets},
    CodeEntry{{"\\", CodeCategory::kPresent}, kBothCodeSets},
    CodeEntry{{"L", CodeCategory::kPresent}, kBothCodeSets},
    CodeEntry{{"K", CodeCategory::kEducationalActivity}, kCodeSet2024},
    CodeEntry{{"V", CodeCategory::kEducationalActivity}, kBothCodeSets},
    CodeEntry{{"P", CodeCategory::kEducationalActivity}, kBothCodeSets},
    CodeEntry{{"W", CodeCategory::kEducationalActivity}, kBothCodeSets},
    CodeEntry{{"B", CodeCategory::kEducationalActivity}, kBothCodeSets},
    CodeEntry{{"J", CodeCategory::kEducationalActivity}, kCodeSetLegacy},
    CodeEntry{{"D", CodeCategory::kNotPossible}, kBothCodeSets},
    CodeEntry{{"C1", CodeCategory::kAuthorisedAbsence}, kCodeSet2024},
    CodeEntry{{"M", CodeCategory::kAuthorisedAbsence}, kBothCodeSets},
    CodeEntry{{"J1", CodeCategory::kAuthorisedAbsence}, kCodeSet2024},
    CodeEntry{{"S", CodeCategory::kAuthorisedAbsence}, kBothCodeSets},
    CodeEntry{{"C2", CodeCategory::kAuthorisedAbsence}, kCodeSet2024},
    CodeEntry{{"C", CodeCategory::kAuthorisedAbsence}, kBothCodeSets},
    CodeEntry{{"E", CodeCategory::kAuthorisedAbsence}, kBothCodeSets},
    CodeEntry{{"I", CodeCategory::kAuthorisedAbsence}, kBothCodeSets},
    CodeEntry{{"R", CodeCategory::kAuthorisedAbsence}, kBothCodeSets},
    CodeEntry{{"T", CodeCategory::kAuthorisedAbsence}, kBothCodeSets},
    CodeEntry{{"H", CodeCategory::kAuthorisedAbsence}, kCodeSetLegacy},
    CodeEntry{{"F", CodeCategory::kAuthorisedAbsence}, kCodeSetLegacy},
    CodeEntry{{"G", CodeCategory::kUnauthorisedAbsence}, kBothCodeSets},
    CodeEntry{{"U", CodeCategory::kUnauthorisedAbsence}, kBothCodeSets},
    CodeEntry{{"O", CodeCategory::kUnauthorisedAbsence}, kBothCodeSets},
    CodeEntry{{"N", CodeCategory::kUnauthorisedAbsence}, kBothCodeSets},
    CodeEntry{{"X", CodeCategory::kNotPossible}, kBothCodeSets},
    CodeEntry{{"Y", CodeCategory::kNotPossible}, kCodeSetLegacy},
    CodeEntry{{"Q", CodeCategory::kNotPossible}, kCodeSet2024},
    CodeEntry{{"Y1", CodeCategory::kNotPossible}, kCodeSet2024},
    CodeEntry{{"Y2", CodeCategory::kNotPossible}, kCodeSet2024},
    CodeEntry{{"Y3", CodeCategory::kNotPossible}, kCodeSet2024},
    CodeEntry{{"Y4", CodeCategory::kNotPossible}, kCodeSet2024},
    CodeEntry{{"Y5", CodeCategory::kNotPossible}, kCodeSet2024},
    CodeEntry{{"Y6", CodeCategory::kNotPossible}, kCodeSet2024},
    CodeEntry{{"Y7", CodeCategory::kNotPossible}, kCodeSet2024},
    CodeEntry{{"Z", CodeCategory::kNotPossible}, kBothCodeSets},
    CodeEntry{{"#", CodeCategory::kNotPossible}, kBothCodeSets},
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
