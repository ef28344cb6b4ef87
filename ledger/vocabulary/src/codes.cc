#include "ledger/codes.h"

#include <array>

namespace attendance::ledger {
namespace {

// Which code sets a code belongs to.
enum Era : unsigned { kLegacy = 1, k2024 = 2, kBoth = 3 };

struct Entry {
  CodeInfo info;
  unsigned eras;
};

using C = CodeCategory;

// ../shared/domain.md §1 (2024 set) and §1a (legacy handling). Legacy J was
// an approved educational activity; its 2024 successor J1 is an authorised
// absence, so history keeps J's old meaning and J is refused after the
// cut-over.
constexpr std::array kCodes = {
    Entry{{"/", C::kPresent}, kBoth},
    Entry{{"\\", C::kPresent}, kBoth},
    Entry{{"L", C::kPresent}, kBoth},
    Entry{{"K", C::kEducationalActivity}, k2024},
    Entry{{"V", C::kEducationalActivity}, kBoth},
    Entry{{"P", C::kEducationalActivity}, kBoth},
    Entry{{"W", C::kEducationalActivity}, kBoth},
    Entry{{"B", C::kEducationalActivity}, kBoth},
    Entry{{"J", C::kEducationalActivity}, kLegacy},
    Entry{{"D", C::kNotPossible}, kBoth},
    Entry{{"C1", C::kAuthorisedAbsence}, k2024},
    Entry{{"M", C::kAuthorisedAbsence}, kBoth},
    Entry{{"J1", C::kAuthorisedAbsence}, k2024},
    Entry{{"S", C::kAuthorisedAbsence}, kBoth},
    Entry{{"C2", C::kAuthorisedAbsence}, k2024},
    Entry{{"C", C::kAuthorisedAbsence}, kBoth},
    Entry{{"E", C::kAuthorisedAbsence}, kBoth},
    Entry{{"I", C::kAuthorisedAbsence}, kBoth},
    Entry{{"R", C::kAuthorisedAbsence}, kBoth},
    Entry{{"T", C::kAuthorisedAbsence}, kBoth},
    Entry{{"H", C::kAuthorisedAbsence}, kLegacy},
    Entry{{"F", C::kAuthorisedAbsence}, kLegacy},
    Entry{{"G", C::kUnauthorisedAbsence}, kBoth},
    Entry{{"U", C::kUnauthorisedAbsence}, kBoth},
    Entry{{"O", C::kUnauthorisedAbsence}, kBoth},
    Entry{{"N", C::kUnauthorisedAbsence}, kBoth},
    Entry{{"X", C::kNotPossible}, kBoth},
    Entry{{"Y", C::kNotPossible}, kLegacy},
    Entry{{"Q", C::kNotPossible}, k2024},
    Entry{{"Y1", C::kNotPossible}, k2024},
    Entry{{"Y2", C::kNotPossible}, k2024},
    Entry{{"Y3", C::kNotPossible}, k2024},
    Entry{{"Y4", C::kNotPossible}, k2024},
    Entry{{"Y5", C::kNotPossible}, k2024},
    Entry{{"Y6", C::kNotPossible}, k2024},
    Entry{{"Y7", C::kNotPossible}, k2024},
    Entry{{"Z", C::kNotPossible}, kBoth},
    Entry{{"#", C::kNotPossible}, kBoth},
};

const Entry* Find(std::string_view code) {
  for (const Entry& e : kCodes) {
    if (e.info.code == code) return &e;
  }
  return nullptr;
}

}  // namespace

Day CodeSet2024Start() {
  static const Day kStart = *ParseDate("2024-08-19");
  return kStart;
}

const CodeInfo* LookupCode(std::string_view code, Day day) {
  const Entry* e = Find(code);
  if (e == nullptr) return nullptr;
  const unsigned era = day >= CodeSet2024Start() ? k2024 : kLegacy;
  return (e->eras & era) != 0 ? &e->info : nullptr;
}

bool IsKnownCode(std::string_view code) { return Find(code) != nullptr; }

}  // namespace attendance::ledger
