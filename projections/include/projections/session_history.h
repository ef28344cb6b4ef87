#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ledger/types.h"
#include "projections/code_table.h"

namespace attendance::projections {

// Two sessions (AM, PM) for every day of an academic year (1 Aug - 31 Jul).
inline constexpr int kSlotsPerYear = 366 * 2;

// The as-of history of one pupil-year's sessions whose code as of a past
// date differs from the current one (marks recorded after their session
// day, amended marks): for each such session, every code it has had and
// the day it was recorded from. Every mark a school enters late keeps one
// entry, so an entry is one 32-bit word (not 8 bytes):
//   bits 31-22 the session slot, 21-16 the code, 15-0 the days from the
//   session's own day to the day it was recorded.
// A gap of 65,536 days or more (a mark of the 1800s recorded today) takes a
// second word for the high 16 bits, with the same slot and kExtension as its
// code, so the words stay sorted by slot for a binary search.
// Words are sorted by (slot, recorded), ties in log order.
class SessionHistory {
 public:
  static constexpr std::uint32_t kExtension = 63;  // a code no session has
  static_assert(kNumCodes <= kExtension, "codes must fit in 6 bits");
  static_assert(kSlotsPerYear <= 1024, "slots must fit in 10 bits");

  bool empty() const { return words_.empty(); }
  // Whether `slot` has any history.
  bool Has(std::uint16_t slot) const;
  // Adds `code` as recorded on `recorded` (not before the session's day,
  // `year_start + slot / 2`), after the slot's codes recorded on or before it.
  void Insert(ledger::Day year_start, std::uint16_t slot, CodeIndex code, ledger::Day recorded);
  // The code `slot` had at the end of `as_of` (0 if none yet); `current` if
  // the slot has no history.
  CodeIndex CodeAsOf(ledger::Day year_start, std::uint16_t slot, ledger::Day as_of,
                     CodeIndex current) const;
  // Calls f(slot, code at the end of as_of) for each slot in [lo, hi] that
  // has history, in slot order.
  template <typename F>
  void ForEachAsOf(ledger::Day year_start, int lo, int hi, ledger::Day as_of, F&& f) const;
  // Replaces the codes of the slots with history by their code as of `as_of`.
  void ApplyAsOf(ledger::Day year_start, ledger::Day as_of,
                 std::array<CodeIndex, kSlotsPerYear>& codes) const {
    ForEachAsOf(year_start, 0, kSlotsPerYear - 1, as_of,
                [&](std::uint16_t slot, CodeIndex code) { codes[slot] = code; });
  }

  // The words, for the checkpoint; Assign checks words read back from one
  // (false if they are not a history this class could have made).
  const std::vector<std::uint32_t>& words() const { return words_; }
  bool Assign(std::vector<std::uint32_t> words);
  std::size_t HeapBytes() const { return words_.capacity() * sizeof(std::uint32_t); }

  bool operator==(const SessionHistory&) const = default;

 private:
  static std::uint16_t SlotOf(std::uint32_t w) { return static_cast<std::uint16_t>(w >> 22); }
  static std::uint32_t CodeOf(std::uint32_t w) { return (w >> 16) & 0x3f; }
  static ledger::Day SessionDay(ledger::Day year_start, std::uint16_t slot) {
    return year_start + slot / 2;
  }
  // The entry at words_[i] (never an extension): its recorded day; `*next`
  // is set to the index after it.
  ledger::Day RecordedAt(ledger::Day year_start, std::size_t i, std::size_t* next) const;
  std::size_t FirstOf(std::uint16_t slot) const;

  std::vector<std::uint32_t> words_;
};

template <typename F>
void SessionHistory::ForEachAsOf(ledger::Day year_start, int lo, int hi, ledger::Day as_of,
                                 F&& f) const {
  std::size_t i = FirstOf(static_cast<std::uint16_t>(std::max(lo, 0)));
  while (i < words_.size() && SlotOf(words_[i]) <= hi) {
    const std::uint16_t slot = SlotOf(words_[i]);
    CodeIndex then = 0;
    while (i < words_.size() && SlotOf(words_[i]) == slot) {
      const auto code = static_cast<CodeIndex>(CodeOf(words_[i]));
      if (RecordedAt(year_start, i, &i) <= as_of) then = code;
    }
    f(slot, then);
  }
}

}  // namespace attendance::projections
