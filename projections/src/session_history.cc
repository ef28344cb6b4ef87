#include "projections/session_history.h"

#include <algorithm>

namespace attendance::projections {
namespace {

constexpr std::uint32_t kLow16 = 0xffff;

std::uint32_t Word(std::uint16_t slot, std::uint32_t code, std::uint32_t low16) {
  return (static_cast<std::uint32_t>(slot) << 22) | (code << 16) | low16;
}

}  // namespace

std::size_t SessionHistory::FirstOf(std::uint16_t slot) const {
  return static_cast<std::size_t>(
      std::lower_bound(words_.begin(), words_.end(), slot,
                       [](std::uint32_t w, std::uint16_t s) { return SlotOf(w) < s; }) -
      words_.begin());
}

ledger::Day SessionHistory::RecordedAt(ledger::Day year_start, std::size_t i,
                                       std::size_t* next) const {
  std::uint32_t gap = words_[i] & kLow16;
  *next = i + 1;
  if (*next < words_.size() && CodeOf(words_[*next]) == kExtension) {
    gap |= (words_[*next] & kLow16) << 16;
    ++*next;
  }
  return static_cast<ledger::Day>(
      static_cast<std::int64_t>(SessionDay(year_start, SlotOf(words_[i]))) + gap);
}

bool SessionHistory::Has(std::uint16_t slot) const {
  const std::size_t i = FirstOf(slot);
  return i < words_.size() && SlotOf(words_[i]) == slot;
}

void SessionHistory::Insert(ledger::Day year_start, std::uint16_t slot, CodeIndex code,
                            ledger::Day recorded) {
  const std::int64_t gap64 =
      std::max<std::int64_t>(0, static_cast<std::int64_t>(recorded) - SessionDay(year_start, slot));
  const auto gap = static_cast<std::uint32_t>(gap64);  // a Day difference fits in 32 bits
  std::size_t at = FirstOf(slot);
  while (at < words_.size() && SlotOf(words_[at]) == slot) {
    std::size_t next = 0;
    if (RecordedAt(year_start, at, &next) > recorded) break;
    at = next;
  }
  const std::uint32_t first = Word(slot, code, gap & kLow16);
  if (gap <= kLow16) {
    words_.insert(words_.begin() + static_cast<std::ptrdiff_t>(at), first);
  } else {
    const std::uint32_t both[] = {first, Word(slot, kExtension, gap >> 16)};
    words_.insert(words_.begin() + static_cast<std::ptrdiff_t>(at), std::begin(both),
                  std::end(both));
  }
}

CodeIndex SessionHistory::CodeAsOf(ledger::Day year_start, std::uint16_t slot, ledger::Day as_of,
                                   CodeIndex current) const {
  std::size_t i = FirstOf(slot);
  if (i == words_.size() || SlotOf(words_[i]) != slot) return current;
  CodeIndex then = 0;
  while (i < words_.size() && SlotOf(words_[i]) == slot) {
    const auto code = static_cast<CodeIndex>(CodeOf(words_[i]));
    if (RecordedAt(year_start, i, &i) <= as_of) then = code;
  }
  return then;
}

bool SessionHistory::Assign(std::vector<std::uint32_t> words) {
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::uint16_t slot = SlotOf(words[i]);
    const std::uint32_t code = CodeOf(words[i]);
    if (slot >= kSlotsPerYear) return false;
    if (i > 0 && SlotOf(words[i - 1]) > slot) return false;
    if (code == kExtension) {
      // Follows its entry, for the same slot.
      if (i == 0 || SlotOf(words[i - 1]) != slot || CodeOf(words[i - 1]) == kExtension) {
        return false;
      }
    } else if (code >= kNumCodes) {
      return false;
    }
  }
  words_ = std::move(words);
  return true;
}

}  // namespace attendance::projections
