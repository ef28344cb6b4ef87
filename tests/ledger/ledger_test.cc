// The ledger against a real RocksDB in a temp dir: append, read back, reopen,
// idempotency, concurrency and the hash chain. Validation rules are in
// validation_test.cc.
#include <atomic>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "ledger/ledger.h"
#include "support/fixtures.h"
#include "support/ledger_events.h"

namespace attendance::testing {
namespace {

std::vector<v1::EventEnvelope> ReadAll(const ledger::Ledger& ledger, ledger::Position from = 1) {
  return EventsFrom(ledger, from);
}

v1::RecordMarksRequest Batch(const std::string& request_id, std::vector<v1::Mark> marks) {
  v1::RecordMarksRequest request;
  request.set_school_id("s1");
  request.set_request_id(request_id);
  for (auto& m : marks) *request.add_marks() = std::move(m);
  return request;
}

TEST_CASE("marks are appended with gapless positions and read back in order", "[ledger]") {
  LedgerFixture f(2);
  const ledger::Position before = f.ledger->LastPosition();
  CHECK(before == 4);  // settings, calendar, two enrolments

  auto result =
      f.ledger->RecordMarks(kTeacher, Batch("r1", {MakeMark("p1", "2025-09-08", v1::AM, "/"),
                                                   MakeMark("p2", "2025-09-08", v1::AM, "N"),
                                                   MakeMark("p1", "2025-09-08", v1::PM, "\\")}));
  REQUIRE(result.ok());
  CHECK(result->first_position() == 5);
  CHECK(result->last_position() == 7);
  CHECK(result->recorded() == 3);
  CHECK_FALSE(result->replayed());

  auto events = ReadAll(*f.ledger);
  REQUIRE(events.size() == 7);
  for (std::size_t i = 0; i < events.size(); ++i) CHECK(events[i].position() == i + 1);
  const v1::EventEnvelope& first_mark = events[4];
  CHECK(first_mark.school_id() == "s1");
  CHECK(first_mark.pupil_id() == "p1");
  CHECK(first_mark.stream_version() == 2);  // enrolment was 1
  CHECK(first_mark.request_id() == "r1");
  CHECK(first_mark.actor().name() == kTeacher.name);
  CHECK(first_mark.mark_recorded().taken_by().role() == "teacher");
  CHECK(first_mark.mark_recorded().code() == "/");
  CHECK(events[6].stream_version() == 3);
  // Each event's prev_hash is the hash of the one before it.
  for (std::size_t i = 1; i < events.size(); ++i) {
    CHECK(events[i].prev_hash() == events[i - 1].hash());
    CHECK(events[i].hash().size() == 32);
  }
  CHECK(events[0].prev_hash().empty());

  // Reading from the middle still carries the previous hash.
  auto tail = ReadAll(*f.ledger, 6);
  REQUIRE(tail.size() == 2);
  CHECK(tail[0].prev_hash() == events[4].hash());
}

TEST_CASE("a reopened ledger keeps every event and its validation state", "[ledger]") {
  LedgerFixture f(1);
  REQUIRE(f.ledger->RecordMarks(kTeacher, Batch("r1", {MakeMark("p1", "2025-09-08", v1::AM, "/")}))
              .ok());
  const auto before = ReadAll(*f.ledger);
  f.Reopen();
  const auto after = ReadAll(*f.ledger);
  REQUIRE(after.size() == before.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    CHECK(after[i].SerializeAsString() == before[i].SerializeAsString());
  }
  CHECK(f.ledger->VerifyChain(1, 0).ok());

  SECTION("the mark is still there, so a second one for the session is refused") {
    auto again =
        f.ledger->RecordMarks(kTeacher, Batch("r2", {MakeMark("p1", "2025-09-08", v1::AM, "N")}));
    CHECK(again.status().code() == absl::StatusCode::kAlreadyExists);
  }
  SECTION("new events continue the chain") {
    auto next =
        f.ledger->RecordMarks(kTeacher, Batch("r3", {MakeMark("p1", "2025-09-08", v1::PM, "\\")}));
    REQUIRE(next.ok());
    CHECK(next->first_position() == before.size() + 1);
    CHECK(f.ledger->VerifyChain(1, 0).ok());
  }
}

TEST_CASE("a retried request id returns the original result and writes nothing", "[ledger]") {
  LedgerFixture f(1);
  const auto request = Batch("retry-me", {MakeMark("p1", "2025-09-08", v1::AM, "/")});
  auto first = f.ledger->RecordMarks(kTeacher, request);
  REQUIRE(first.ok());
  const auto position = f.ledger->LastPosition();

  auto second = f.ledger->RecordMarks(kTeacher, request);
  REQUIRE(second.ok());
  CHECK(second->replayed());
  CHECK(second->first_position() == first->first_position());
  CHECK(f.ledger->LastPosition() == position);

  SECTION("also after a restart") {
    f.Reopen();
    auto third = f.ledger->RecordMarks(kTeacher, request);
    REQUIRE(third.ok());
    CHECK(third->replayed());
    CHECK(third->first_position() == first->first_position());
    CHECK(f.ledger->LastPosition() == position);
  }
  SECTION("the same id with a different request is refused") {
    auto other = f.ledger->RecordMarks(
        kTeacher, Batch("retry-me", {MakeMark("p1", "2025-09-08", v1::PM, "\\")}));
    CHECK(other.status().code() == absl::StatusCode::kAlreadyExists);
    CHECK_THAT(std::string(other.status().message()), Catch::Contains("retry-me"));
    CHECK(f.ledger->LastPosition() == position);
  }
  SECTION("a rejected request's id is not remembered, so a corrected retry works") {
    auto bad = f.ledger->RecordMarks(kTeacher,
                                     Batch("fix-me", {MakeMark("p1", "2025-09-09", v1::AM, "?")}));
    CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
    auto good = f.ledger->RecordMarks(kTeacher,
                                      Batch("fix-me", {MakeMark("p1", "2025-09-09", v1::AM, "/")}));
    CHECK(good.ok());
  }
}

TEST_CASE("amendments keep the original entry, reason and amender", "[ledger]") {
  LedgerFixture f(1);
  REQUIRE(f.ledger->RecordMarks(kTeacher, Batch("r1", {MakeMark("p1", "2025-09-08", v1::AM, "N")}))
              .ok());
  v1::AmendMarkRequest amend;
  amend.set_school_id("s1");
  amend.set_request_id("a1");
  amend.set_pupil_id("p1");
  amend.set_date("2025-09-08");
  amend.set_session(v1::AM);
  amend.set_amended_code("I");
  amend.set_reason("parent phoned: illness");
  amend.set_expected_code("N");
  auto result = f.ledger->AmendMark(kOfficer, amend);
  REQUIRE(result.ok());
  CHECK(result->original_code() == "N");

  const auto events = ReadAll(*f.ledger, result->position());
  REQUIRE(events.size() == 1);
  const auto& amended = events[0].mark_amended();
  CHECK(amended.original_code() == "N");
  CHECK(amended.amended_code() == "I");
  CHECK(amended.reason() == "parent phoned: illness");
  CHECK(amended.amended_by().name() == kOfficer.name);
  CHECK(amended.amended_by().role() == kOfficer.role);
  CHECK(amended.amended_at_us() == 1'760'000'000'000'000);

  SECTION("a second amendment that still expects N loses the race") {
    amend.set_request_id("a2");
    amend.set_amended_code("O");
    auto stale = f.ledger->AmendMark(kOfficer, amend);
    CHECK(stale.status().code() == absl::StatusCode::kAborted);
  }
  SECTION("a stale stream version is refused too") {
    amend.set_request_id("a3");
    amend.set_amended_code("M");
    amend.clear_expected_code();
    amend.set_expected_stream_version(result->stream_version() - 1);
    CHECK(f.ledger->AmendMark(kOfficer, amend).status().code() == absl::StatusCode::kAborted);
    amend.set_expected_stream_version(result->stream_version());
    CHECK(f.ledger->AmendMark(kOfficer, amend).ok());
  }
}

TEST_CASE("concurrent writers get one gapless log", "[ledger]") {
  LedgerFixture f(8);
  const auto start = f.ledger->LastPosition();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  const char* days[] = {"2025-09-08", "2025-09-09", "2025-09-10", "2025-09-11", "2025-09-12"};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const std::string pupil = "p" + std::to_string(t + 1);
      for (int d = 0; d < 5; ++d) {
        auto r = f.ledger->RecordMarks(
            kTeacher, Batch(pupil + "-" + days[d], {MakeMark(pupil, days[d], v1::AM, "/"),
                                                    MakeMark(pupil, days[d], v1::PM, "\\")}));
        if (!r.ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(f.ledger->LastPosition() == start + 8 * 5 * 2);
  CHECK(ReadAll(*f.ledger).size() == start + 80);
  CHECK(f.ledger->VerifyChain(1, 0).ok());
}

TEST_CASE("asynchronous batches apply in submission order", "[ledger]") {
  LedgerFixture f(1);
  std::mutex mu;
  std::vector<absl::StatusCode> codes(3);
  std::atomic<int> finished{0};
  auto submit = [&](int index, v1::RecordMarksRequest request) {
    f.ledger->RecordMarksAsync(kTeacher, std::move(request),
                               [&, index](absl::StatusOr<v1::RecordMarksResponse> r) {
                                 std::lock_guard lock(mu);
                                 codes[static_cast<std::size_t>(index)] = r.status().code();
                                 ++finished;
                               });
  };
  submit(0, Batch("x0", {MakeMark("p1", "2025-09-08", v1::AM, "/")}));
  submit(1, Batch("x1", {MakeMark("p1", "2025-09-08", v1::AM, "N")}));  // same session
  submit(2, Batch("x2", {MakeMark("p1", "2025-09-08", v1::PM, "\\")}));
  while (finished < 3) std::this_thread::yield();
  CHECK(codes[0] == absl::StatusCode::kOk);
  CHECK(codes[1] == absl::StatusCode::kAlreadyExists);
  CHECK(codes[2] == absl::StatusCode::kOk);
}

TEST_CASE("one request id in flight twice: the first wins, a different request is refused",
          "[ledger]") {
  LedgerFixture f(1);
  std::mutex mu;
  std::vector<absl::StatusOr<v1::RecordMarksResponse>> results(3, absl::UnknownError(""));
  std::atomic<int> finished{0};
  auto submit = [&](int index, v1::RecordMarksRequest request) {
    f.ledger->RecordMarksAsync(kTeacher, std::move(request),
                               [&, index](absl::StatusOr<v1::RecordMarksResponse> r) {
                                 std::lock_guard lock(mu);
                                 results[static_cast<std::size_t>(index)] = std::move(r);
                                 ++finished;
                               });
  };
  // Submitted back to back, so that they usually share a commit group.
  submit(0, Batch("same-id", {MakeMark("p1", "2025-09-08", v1::AM, "/")}));
  submit(1, Batch("same-id", {MakeMark("p1", "2025-09-08", v1::PM, "\\")}));
  submit(2, Batch("same-id", {MakeMark("p1", "2025-09-08", v1::AM, "/")}));
  while (finished < 3) std::this_thread::yield();
  REQUIRE(results[0].ok());
  CHECK_FALSE(results[0]->replayed());
  CHECK(results[1].status().code() == absl::StatusCode::kAlreadyExists);
  REQUIRE(results[2].ok());
  CHECK(results[2]->replayed());
  CHECK(results[2]->first_position() == results[0]->first_position());
  // Only the first batch was written.
  CHECK(ReadAll(*f.ledger).back().mark_recorded().session() == v1::AM);

  SECTION("a different method under the same id is refused too") {
    v1::RecordLetterRequest letter;
    letter.set_school_id("s1");
    letter.set_request_id("same-id");
    letter.set_pupil_id("p1");
    letter.set_letter_id("letter_1");
    letter.set_channel(v1::POST);
    letter.set_sent_on("2025-09-09");
    CHECK(f.ledger->RecordLetter(kOfficer, letter).status().code() ==
          absl::StatusCode::kAlreadyExists);
  }
  SECTION("a retry without a principal does not get the stored answer") {
    auto r = f.ledger->RecordMarks(ledger::Principal{},
                                   Batch("same-id", {MakeMark("p1", "2025-09-08", v1::AM, "/")}));
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("checkpoints of read models survive a reopen", "[ledger]") {
  LedgerFixture f(0);
  CHECK(absl::IsNotFound(f.ledger->LoadCheckpoint("attendance").status()));
  REQUIRE(f.ledger->SaveCheckpoint("attendance", {2, "state-bytes"}).ok());
  f.Reopen();
  auto loaded = f.ledger->LoadCheckpoint("attendance");
  REQUIRE(loaded.ok());
  CHECK(loaded->position == 2);
  CHECK(loaded->state == "state-bytes");
}

}  // namespace
}  // namespace attendance::testing
