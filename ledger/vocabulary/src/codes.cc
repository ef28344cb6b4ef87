#include "ledger/codes.h"

namespace attendance::ledger {
namespace {

const CodeEntry* Find(std::string_view code) {
  for (const CodeEntry& e : kCodeTable) {
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
  const CodeEntry* e = Find(code);
  if (e == nullptr) return nullptr;
  const unsigned era = day >= CodeSet2024Start() ? kCodeSet2024 : kCodeSetLegacy;
  return (e->eras & era) != 0 ? &e->info : nullptr;
}

bool IsKnownCode(std::string_view code) { return Find(code) != nullptr; }

}  // namespace attendance::ledger
