#include "projections/code_table.h"

#include <array>
#include <cstddef>

namespace attendance::projections {
namespace {

// The index is part of the checkpoint format: append new codes at the end,
// never reorder. Frozen here, not derived from the vocabulary, so that a
// change there cannot silently renumber stored checkpoints: it fails the
// static_assert below instead.
constexpr std::array<std::string_view, kNumCodes> kNames = {
    "",   "/", "\\", "L", "K",  "V",  "P",  "W",  "B",  "J",  "D",  "C1", "M",
    "J1", "S", "C2", "C", "E",  "I",  "R",  "T",  "H",  "F",  "G",  "U",  "O",
    "N",  "X", "Y",  "Q", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7", "Z",  "#"};

constexpr bool SameOrderAsVocabulary() {
  if (ledger::kCodeTable.size() + 1 != kNames.size()) return false;
  for (std::size_t i = 0; i < ledger::kCodeTable.size(); ++i) {
    if (ledger::kCodeTable[i].info.code != kNames[i + 1]) return false;
  }
  return true;
}
static_assert(SameOrderAsVocabulary(),
              "projections' code indices must follow ledger::kCodeTable (ledger/codes.h) "
              "code for code: append to both, never reorder");

struct Table {
  // Codes are one or two bytes: index by both.
  std::array<CodeIndex, 65536> by_bytes{};
  std::array<ledger::CodeCategory, kNumCodes> category{};
  std::array<bool, kNumCodes> legacy{};
  std::array<bool, kNumCodes> current{};

  static unsigned Key(std::string_view code) {
    const auto b0 = static_cast<unsigned char>(code[0]);
    const auto b1 = code.size() > 1 ? static_cast<unsigned char>(code[1]) : 0u;
    return b0 << 8 | b1;
  }

  Table() {
    const ledger::Day cut = ledger::CodeSet2024Start();
    for (int i = 1; i < kNumCodes; ++i) {
      by_bytes[Key(kNames[i])] = static_cast<CodeIndex>(i);
      const ledger::CodeInfo* now = ledger::LookupCode(kNames[i], cut);
      const ledger::CodeInfo* old = ledger::LookupCode(kNames[i], cut - 1);
      current[i] = now != nullptr;
      legacy[i] = old != nullptr;
      category[i] = now != nullptr   ? now->category
                    : old != nullptr ? old->category
                                     : ledger::CodeCategory::kNotPossible;
    }
  }
};

const Table& T() {
  static const Table kTable;
  return kTable;
}

}  // namespace

CodeIndex CodeIndexOf(std::string_view code) {
  if (code.empty() || code.size() > 2) return 0;
  return T().by_bytes[Table::Key(code)];
}

std::string_view CodeName(CodeIndex index) { return index < kNumCodes ? kNames[index] : ""; }

ledger::CodeCategory CategoryOf(CodeIndex index) {
  return index < kNumCodes ? T().category[index] : ledger::CodeCategory::kNotPossible;
}

bool ValidOn(CodeIndex index, ledger::Day day) {
  if (index == 0 || index >= kNumCodes) return false;
  return day >= ledger::CodeSet2024Start() ? T().current[index] : T().legacy[index];
}

}  // namespace attendance::projections
