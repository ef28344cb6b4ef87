// Followers of the log (LogTail): many at once, each sees every event once
// and in order while writers write, and a stalled one holds one bounded
// chunk and slows no one.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "ledger/ledger.h"
#include "support/fixtures.h"
#include "support/mark_writers.h"

namespace attendance::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kWriters = 4;
constexpr int kPupilsPerWriter = 20;

// What one follower saw, checked as it goes.
struct FollowerLog {
  ledger::Position first = 0;
  ledger::Position last = 0;
  std::size_t events = 0;
  std::size_t out_of_order = 0;  // positions not exactly last + 1
  std::size_t broken_links = 0;  // prev_hash not the previous event's hash
  std::size_t largest_chunk = 0;
  std::string last_hash;
};

void Record(FollowerLog& log, const ledger::EventChunk& chunk) {
  log.largest_chunk = std::max<std::size_t>(log.largest_chunk, chunk.events.size());
  for (const v1::EventEnvelope& e : chunk.events) {
    if (log.events == 0) log.first = e.position();
    if (log.events > 0 && e.position() != log.last + 1) ++log.out_of_order;
    if (log.events > 0 && e.prev_hash() != log.last_hash) ++log.broken_links;
    log.last = e.position();
    log.last_hash = e.hash();
    ++log.events;
  }
}

TEST_CASE("ten followers of the tail each see every event once, in order, while writers write",
          "[ledger][tail]") {
  LedgerFixture f(kWriters * kPupilsPerWriter);
  const ledger::Position before = f.ledger->LastPosition();
  std::atomic<ledger::Position> final_head{0};  // set once the writers are done

  std::atomic<bool> read_failed{false};
  auto follow = [&](FollowerLog& log, ledger::ChunkLimits limits) {
    ledger::LogTail tail(*f.ledger, 1, limits);
    ledger::EventChunk chunk;
    for (;;) {
      const ledger::Position target = final_head.load();
      if (target != 0 && tail.next_position() > target) return;
      if (!tail.Next(Clock::now() + std::chrono::milliseconds(50), chunk).ok()) {
        read_failed = true;
        return;
      }
      Record(log, chunk);
    }
  };

  std::vector<FollowerLog> logs(10);
  std::vector<std::thread> followers;
  for (std::size_t i = 0; i < logs.size(); ++i) {
    // Different chunk sizes, so chunk ends fall in different places.
    ledger::ChunkLimits limits;
    limits.max_events = 7 + i * 50;
    followers.emplace_back([&, i, limits] { follow(logs[i], limits); });
  }

  // A follower that takes one chunk and then stops reading until the
  // writers are done: they must finish without it.
  ledger::LogTail stalled(*f.ledger, 1);
  ledger::EventChunk stalled_chunk;
  REQUIRE(stalled.Next(Clock::now(), stalled_chunk).ok());
  const std::size_t held_while_stalled = static_cast<std::size_t>(stalled_chunk.events.size());

  const std::size_t marks = WriteRegistersConcurrently(*f.ledger, kWriters, kPupilsPerWriter);
  const ledger::Position head = f.ledger->LastPosition();
  REQUIRE(head == before + marks);
  final_head = head;
  for (auto& t : followers) t.join();
  REQUIRE_FALSE(read_failed);

  for (const FollowerLog& log : logs) {
    CHECK(log.first == 1);
    CHECK(log.last == head);
    CHECK(log.events == head);
    CHECK(log.out_of_order == 0);
    CHECK(log.broken_links == 0);
  }
  CHECK(logs[0].largest_chunk <= 7);

  // The stalled follower held at most one chunk while the writers wrote
  // thousands of events, and resumes where it stopped.
  CHECK(held_while_stalled <= ledger::ChunkLimits{}.max_events);
  CHECK(marks > 2 * ledger::ChunkLimits{}.max_events);
  FollowerLog resumed;
  Record(resumed, stalled_chunk);
  while (stalled.next_position() <= head) {
    REQUIRE(stalled.Next(Clock::now(), stalled_chunk).ok());
    CHECK(static_cast<std::size_t>(stalled_chunk.events.size()) <=
          ledger::ChunkLimits{}.max_events);
    Record(resumed, stalled_chunk);
  }
  CHECK(resumed.events == head);
  CHECK(resumed.out_of_order == 0);
  CHECK(resumed.broken_links == 0);
}

TEST_CASE("a follower at the head waits for the next commit and is woken by it", "[ledger][tail]") {
  LedgerFixture f(1);
  const ledger::Position head = f.ledger->LastPosition();
  ledger::LogTail tail(*f.ledger, head + 1);
  ledger::EventChunk chunk;
  // Nothing committed: an expired deadline returns at once, empty.
  REQUIRE(tail.Next(Clock::now(), chunk).ok());
  CHECK(chunk.events.empty());

  std::thread writer([&] {
    v1::RecordMarksRequest request;
    request.set_school_id("s1");
    request.set_request_id("r1");
    *request.add_marks() = MakeMark("p1", "2025-09-08", v1::AM, "/");
    *request.add_marks() = MakeMark("p1", "2025-09-08", v1::PM, "\\");
    REQUIRE(f.ledger->RecordMarks(kTeacher, request).ok());
  });
  // Generous deadline: Next returns as soon as the commit wakes it.
  std::size_t seen = 0;
  while (seen < 2) {
    REQUIRE(tail.Next(Clock::now() + std::chrono::seconds(60), chunk).ok());
    seen += static_cast<std::size_t>(chunk.events.size());
    if (!chunk.events.empty()) CHECK(chunk.ends_commit);
  }
  writer.join();
  CHECK(tail.next_position() == head + 3);
}

TEST_CASE("ForEachEvent reads a log longer than one chunk without a gap", "[ledger][tail]") {
  LedgerFixture f(kWriters * kPupilsPerWriter);
  WriteRegistersConcurrently(*f.ledger, kWriters, kPupilsPerWriter);
  ledger::Position expected = 1;
  std::size_t wrong = 0;
  REQUIRE(f.ledger
              ->ForEachEvent(1,
                             [&](const v1::EventEnvelope& e) {
                               if (e.position() != expected) ++wrong;
                               ++expected;
                               return true;
                             })
              .ok());
  CHECK(wrong == 0);
  CHECK(expected == f.ledger->LastPosition() + 1);
}

TEST_CASE("after a reopen, when no commit end is known, a chunk ends where a request ends",
          "[ledger][tail]") {
  LedgerFixture f(2);
  const ledger::Position start = f.ledger->LastPosition();
  for (const char* id : {"r1", "r2"}) {
    v1::RecordMarksRequest request;
    request.set_school_id("s1");
    request.set_request_id(id);
    *request.add_marks() = MakeMark("p1", id[1] == '1' ? "2025-09-08" : "2025-09-09", v1::AM, "/");
    *request.add_marks() = MakeMark("p2", id[1] == '1' ? "2025-09-08" : "2025-09-09", v1::AM, "/");
    REQUIRE(f.ledger->RecordMarks(kTeacher, request).ok());
  }
  // A reopened ledger knows no commit ends but the head's.
  f.Reopen();
  ledger::EventChunk chunk;
  // Three events would cut r2 in half: the chunk stops after r1.
  REQUIRE(f.ledger->ReadChunk(start + 1, {.max_events = 3}, chunk).ok());
  REQUIRE(chunk.events.size() == 2);
  CHECK(chunk.events[1].request_id() == "r1");
  CHECK(chunk.ends_commit);
  // From inside r2 to the head: the head is a commit end.
  REQUIRE(f.ledger->ReadChunk(start + 3, {.max_events = 3}, chunk).ok());
  CHECK(chunk.events.size() == 2);
  CHECK(chunk.ends_commit);
}

}  // namespace
}  // namespace attendance::testing
