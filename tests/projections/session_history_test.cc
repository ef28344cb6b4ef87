// The compact as-of history of a pupil-year's sessions against the plain
// list of (slot, code, recorded) it replaces.
#include "projections/session_history.h"

#include <catch2/catch.hpp>
#include <random>
#include <tuple>
#include <vector>

namespace attendance::projections {
namespace {

constexpr ledger::Day kYearStart = 20300;  // any day: the history stores gaps from it

struct Plain {
  std::uint16_t slot;
  CodeIndex code;
  ledger::Day recorded;
};

// The code of `slot` at the end of `as_of` from a plain list kept in
// insertion order: the last inserted among those recorded latest by then.
CodeIndex PlainAsOf(const std::vector<Plain>& plain, std::uint16_t slot, ledger::Day as_of,
                    CodeIndex current) {
  bool any = false;
  ledger::Day best = 0;
  CodeIndex code = 0;
  for (const Plain& p : plain) {
    if (p.slot != slot) continue;
    any = true;
    if (p.recorded <= as_of && (code == 0 || p.recorded >= best)) {
      best = p.recorded;
      code = p.code;
    }
  }
  return any ? code : current;
}

TEST_CASE("the session history answers as of any day like the plain list it replaces",
          "[projections][property]") {
  std::mt19937 rng(11);
  for (int round = 0; round < 200; ++round) {
    SessionHistory history;
    std::vector<Plain> plain;
    const int inserts = 1 + static_cast<int>(rng() % 60);
    for (int i = 0; i < inserts; ++i) {
      const auto slot = static_cast<std::uint16_t>(rng() % 8 == 0 ? kSlotsPerYear - 1 : rng() % 40);
      const auto code = static_cast<CodeIndex>(1 + rng() % (kNumCodes - 1));
      const ledger::Day day = kYearStart + slot / 2;
      // Mostly days late, some on the day, a few more than 65,535 days late.
      const std::uint32_t kind = rng() % 10;
      const ledger::Day gap = kind == 0   ? 0
                              : kind == 1 ? 65535 + static_cast<ledger::Day>(rng() % 3)
                              : kind == 2 ? 200000 + static_cast<ledger::Day>(rng() % 5)
                                          : static_cast<ledger::Day>(rng() % 20);
      history.Insert(kYearStart, slot, code, day + gap);
      plain.push_back({slot, code, day + gap});
    }
    SessionHistory copy;
    REQUIRE(copy.Assign(history.words()));
    REQUIRE(copy == history);
    for (int q = 0; q < 100; ++q) {
      const auto slot = static_cast<std::uint16_t>(rng() % 40);
      const ledger::Day as_of = kYearStart + static_cast<ledger::Day>(rng() % 210000);
      CHECK(history.Has(slot) == (PlainAsOf(plain, slot, as_of, 99) != 99));
      CHECK(history.CodeAsOf(kYearStart, slot, as_of, 99) == PlainAsOf(plain, slot, as_of, 99));
      std::vector<std::tuple<std::uint16_t, CodeIndex>> seen;
      const int lo = static_cast<int>(rng() % 40);
      const int hi = lo + static_cast<int>(rng() % 800);
      history.ForEachAsOf(kYearStart, lo, hi, as_of,
                          [&](std::uint16_t s, CodeIndex code) { seen.emplace_back(s, code); });
      std::vector<std::tuple<std::uint16_t, CodeIndex>> expected;
      for (int s = lo; s <= std::min(hi, kSlotsPerYear - 1); ++s) {
        const auto slot16 = static_cast<std::uint16_t>(s);
        const CodeIndex code = PlainAsOf(plain, slot16, as_of, 99);
        if (code != 99) expected.emplace_back(slot16, code);
      }
      CHECK(seen == expected);
    }
  }
}

TEST_CASE("a session recorded late costs one 32-bit word, and a gap of 65,536 days two",
          "[projections]") {
  SessionHistory history;
  history.Insert(kYearStart, 10, 3, kYearStart + 5 + 400);
  CHECK(history.words().size() == 1);
  history.Insert(kYearStart, 11, 3, kYearStart + 5 + 65536);
  CHECK(history.words().size() == 3);
  CHECK(history.CodeAsOf(kYearStart, 11, kYearStart + 5 + 65535, 7) == 0);
  CHECK(history.CodeAsOf(kYearStart, 11, kYearStart + 5 + 65536, 7) == 3);
}

TEST_CASE("a checkpoint's history words that no history could have are refused", "[projections]") {
  auto word = [](std::uint32_t slot, std::uint32_t code, std::uint32_t gap) {
    return (slot << 22) | (code << 16) | gap;
  };
  SessionHistory history;
  CHECK(history.Assign({word(1, 2, 0), word(1, 3, 4), word(5, 2, 0)}));
  CHECK(history.Assign({word(1, 2, 0), word(1, SessionHistory::kExtension, 1)}));
  CHECK_FALSE(history.Assign({word(5, 2, 0), word(1, 2, 0)}));            // unsorted
  CHECK_FALSE(history.Assign({word(1, SessionHistory::kExtension, 1)}));  // nothing to extend
  CHECK_FALSE(history.Assign({word(1, 2, 0), word(2, SessionHistory::kExtension, 1)}));
  CHECK_FALSE(history.Assign({word(1, kNumCodes, 0)}));      // no such code
  CHECK_FALSE(history.Assign({word(kSlotsPerYear, 2, 0)}));  // no such session
  CHECK(history.words().size() == 2);  // a refused Assign leaves the history as it was
}

}  // namespace
}  // namespace attendance::projections
