// The hot state's compact per-pupil session codes (hot_state.h) against a
// plain map of what was applied: marks, amendments, dates out of order,
// odd sessions and dates far away all read back as they were last set.
#include "hot_state.h"

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <string>
#include <tuple>

#include "ledger/types.h"

namespace attendance::testing {
namespace {

using ledger::Day;
using ledger::HotState;

constexpr const char* kCodes[] = {"/", "\\", "N", "I", "M", "O", "L", "U", "G", "#", "C", "X"};

v1::EventEnvelope Mark(ledger::Position position, const std::string& pupil, Day day,
                       v1::Session session, const std::string& code, bool amend) {
  v1::EventEnvelope event;
  event.set_position(position);
  event.set_school_id("s1");
  event.set_pupil_id(pupil);
  if (amend) {
    auto* m = event.mutable_mark_amended();
    m->set_date(ledger::FormatDate(day));
    m->set_session(session);
    m->set_amended_code(code);
  } else {
    auto* m = event.mutable_mark_recorded();
    m->set_date(ledger::FormatDate(day));
    m->set_session(session);
    m->set_code(code);
  }
  return event;
}

TEST_CASE("the hot state reads back every session's last code, compactly") {
  const Day hot_from = *ledger::ParseDate("2025-09-01");
  HotState state(hot_from);
  std::map<std::tuple<std::string, Day, int>, std::string> expected;
  std::mt19937 random(11);
  ledger::Position position = 0;
  auto apply = [&](const std::string& pupil, Day day, v1::Session session, const std::string& code,
                   bool amend) {
    state.Apply(Mark(++position, pupil, day, session, code, amend));
    if (day >= hot_from) expected[{pupil, day, session}] = code;
  };
  // Forwards through a year, then amendments and marks at random days,
  // some before the first (the array grows at its front) and some before
  // hot_from (not hot: not kept).
  for (int p = 0; p < 40; ++p) {
    const std::string pupil = "P" + std::to_string(p);
    for (Day day = hot_from + 200; day < hot_from + 400; ++day) {
      apply(pupil, day, v1::AM, kCodes[random() % 12], false);
      apply(pupil, day, v1::PM, kCodes[random() % 12], false);
    }
  }
  for (int i = 0; i < 5000; ++i) {
    const std::string pupil = "P" + std::to_string(random() % 40);
    const Day day = hot_from - 40 + static_cast<Day>(random() % 500);
    apply(pupil, day, random() % 2 ? v1::AM : v1::PM, kCodes[random() % 12], random() % 2 == 0);
  }
  // Far ahead (beyond the array's span) and not AM or PM: kept all the same.
  apply("P1", hot_from + 20 * 366, v1::PM, "N", false);
  apply("P2", hot_from + 30, v1::SESSION_UNSPECIFIED, "/", false);
  apply("P2", hot_from + 30, v1::SESSION_UNSPECIFIED, "L", true);

  auto code = [&](const std::string& pupil_id, Day day, v1::Session session) {
    ledger::SchoolState* school = state.FindSchool("s1");
    REQUIRE(school != nullptr);
    ledger::PupilState* pupil = state.FindPupil(*school, pupil_id);
    REQUIRE(pupil != nullptr);
    return ledger::UnpackCode(state.MarkCode(*pupil, day, session));
  };
  for (const auto& [key, value] : expected) {
    const auto& [pupil, day, session] = key;
    INFO(pupil << " " << ledger::FormatDate(day) << " " << session);
    CHECK(code(pupil, day, static_cast<v1::Session>(session)) == value);
  }
  CHECK(state.hot_marks() == expected.size());
  // Sessions never marked read as no mark, also around the far one.
  CHECK(code("P1", hot_from + 20 * 366, v1::AM).empty());
  CHECK(code("P3", hot_from + 1000, v1::AM).empty());
  CHECK(code("P3", hot_from - 100, v1::PM).empty());
  // 40 pupils with about 440 days each: a byte per session, whole 32-day
  // blocks, not a map node per mark.
  CHECK(state.MemoryBytes() < 40 * 2 * 480 + 4096);
}

}  // namespace
}  // namespace attendance::testing
