// The min_position contract under load: a query that asks for the position a
// write returned never answers from state older than that position, while
// other writers keep the read models busy. On a real ledger, read-model host
// and gRPC server. (A CI run under ASan once got a GetMarkHistory without
// the last amendment: the handler compared min_position with the position
// the model had applied, which runs ahead of the keys it has written.)
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "audit_fixture.h"

namespace attendance::testing {
namespace {

constexpr int kPupils = 8;
constexpr int kRounds = 400;
constexpr const char* kDate = "2025-09-08";

// Amends pupils p2..p<kPupils> back and forth until `stop`: each amendment
// is its own commit, so the read models always have a run of events to
// apply and keyed state to write when the reader's write lands.
// (Catch2 asserts on the test's thread only: failures are counted.)
void AmendOthers(AuditFixture& f, int first, const std::atomic<bool>& stop,
                 std::atomic<int>& failed) {
  int round = 0;
  while (!stop.load()) {
    for (int p = first; p <= kPupils && !stop.load(); p += 2) {
      const std::string code = round % 2 == 0 ? "I" : "M";
      auto done = f.ledger->AmendMark(
          kOfficer, Amend("p" + std::to_string(p), kDate, v1::AM, code, "writer " + code));
      if (!done.ok()) ++failed;
    }
    ++round;
  }
}

TEST_CASE("a query with min_position sees that write while other writers go on", "[audit][race]") {
  AuditFixture f(kPupils);
  f.now_us = kT0;
  v1::RecordMarksRequest marks;
  marks.set_school_id("s1");
  for (int p = 1; p <= kPupils; ++p) {
    *marks.add_marks() = MakeMark("p" + std::to_string(p), kDate, v1::AM, "N");
  }
  REQUIRE(f.ledger->RecordMarks(kTeacher, marks).ok());
  f.now_us = kT0 + 24 * kHour;

  std::atomic<bool> stop{false};
  std::atomic<int> writes_failed{0};
  std::vector<std::thread> writers;
  writers.emplace_back([&] { AmendOthers(f, 2, stop, writes_failed); });
  writers.emplace_back([&] { AmendOthers(f, 3, stop, writes_failed); });

  // Stale answers per query, counted rather than stopping at the first,
  // so a failure says how often.
  int stale_history = 0, stale_register = 0, stale_replay = 0, stale_timeline = 0;
  for (int round = 0; round < kRounds; ++round) {
    const std::string code = round % 2 == 0 ? "I" : "M";
    auto amended = f.ledger->AmendMark(kOfficer, Amend("p1", kDate, v1::AM, code, "round"));
    REQUIRE(amended.ok());
    const ledger::Position position = amended->position();
    const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(30);

    v1::GetMarkHistoryRequest history_request;
    history_request.set_school_id("s1");
    history_request.set_pupil_id("p1");
    history_request.set_date(kDate);
    history_request.set_session(v1::AM);
    history_request.set_min_position(position);
    v1::MarkHistory history;
    auto history_context = f.As("auditor");
    history_context->set_deadline(deadline);
    REQUIRE(f.stub->GetMarkHistory(history_context.get(), history_request, &history).ok());
    if (history.entries_size() != round + 2 || history.entries().rbegin()->position() != position ||
        history.entries().rbegin()->code() != code) {
      ++stale_history;
    }

    // The others every few rounds: they read the audit index, and the
    // timeline both models and the escalation state.
    if (round % 4 != 0) continue;
    v1::GetRegisterAsOfRequest register_request;
    register_request.set_school_id("s1");
    register_request.set_date(kDate);
    register_request.set_session(v1::AM);
    register_request.set_min_position(position);
    v1::RegisterAsOf register_as_of;
    auto register_context = f.As("auditor");
    register_context->set_deadline(deadline);
    REQUIRE(
        f.stub->GetRegisterAsOf(register_context.get(), register_request, &register_as_of).ok());
    REQUIRE(register_as_of.lines_size() == kPupils);
    if (register_as_of.lines(0).pupil_id() != "p1" || register_as_of.lines(0).code() != code ||
        register_as_of.lines(0).as_of_entry().position() != position) {
      ++stale_register;
    }

    v1::ReplayAmendmentsRequest replay;
    replay.set_school_id("s1");
    replay.set_range(v1::BY_SESSION_DATE);
    replay.set_from_date(kDate);
    replay.set_pupil_id("p1");
    replay.set_min_position(position);
    const std::vector<v1::Amendment> amendments = f.Replay(replay);
    if (static_cast<int>(amendments.size()) != round + 1 ||
        amendments.back().position() != position) {
      ++stale_replay;
    }

    v1::GetPupilTimelineRequest timeline;
    timeline.set_school_id("s1");
    timeline.set_pupil_id("p1");
    timeline.set_from_date(kDate);
    timeline.set_to_date(kDate);
    timeline.set_min_position(position);
    auto timeline_context = f.As("auditor");
    timeline_context->set_deadline(deadline);
    auto reader = f.stub->GetPupilTimeline(timeline_context.get(), timeline);
    v1::PupilTimelinePage page;
    ledger::Position last_seen = 0;
    while (reader->Read(&page)) {
      for (const v1::TimelineEntry& entry : page.entries()) {
        last_seen = std::max<ledger::Position>(last_seen, entry.position());
      }
    }
    REQUIRE(reader->Finish().ok());
    if (last_seen != position) ++stale_timeline;
  }
  stop = true;
  for (std::thread& writer : writers) writer.join();
  CHECK(writes_failed == 0);

  INFO("stale answers in " << kRounds << " rounds: GetMarkHistory " << stale_history << ", and in "
                           << kRounds / 4 << ": GetRegisterAsOf " << stale_register
                           << ", ReplayAmendments " << stale_replay << ", GetPupilTimeline "
                           << stale_timeline);
  CHECK(stale_history + stale_register + stale_replay + stale_timeline == 0);
}

}  // namespace
}  // namespace attendance::testing
