// ImportHistory in the ledger: marks and amendments stored with the source's
// times, people and name beside the importer as the envelopes' actor; every
// refusal names its field and writes nothing, however far into the import
// it is found; an import run again writes nothing.
#include <string>

#include <catch2/catch.hpp>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "ledger/ledger.h"
#include "support/fixtures.h"
#include "support/ledger_events.h"

namespace attendance::testing {
namespace {

using Catch::Contains;

// Microseconds of a school-local (Europe/London) time.
std::int64_t LocalUs(int y, int m, int d, int hh, int mm) {
  absl::TimeZone london;
  REQUIRE(absl::LoadTimeZone("Europe/London", &london));
  return absl::ToUnixMicros(absl::FromCivil(absl::CivilMinute(y, m, d, hh, mm), london));
}

v1::Actor Person(const std::string& name, const std::string& role) {
  v1::Actor actor;
  actor.set_name(name);
  actor.set_role(role);
  return actor;
}

v1::ImportedMark Imported(const std::string& pupil, const std::string& date, v1::Session session,
                          const std::string& code, std::int64_t taken_at_us) {
  v1::ImportedMark mark;
  mark.set_pupil_id(pupil);
  mark.set_date(date);
  mark.set_session(session);
  mark.set_code(code);
  mark.set_taken_at_us(taken_at_us);
  *mark.mutable_taken_by() = Person("Miss C. Patel", "teacher");
  return mark;
}

v1::ImportedAmendment* Amend(v1::ImportedMark& mark, const std::string& code,
                             std::int64_t amended_at_us, const std::string& reason) {
  v1::ImportedAmendment* amendment = mark.add_amendments();
  amendment->set_amended_code(code);
  amendment->set_amended_at_us(amended_at_us);
  amendment->set_reason(reason);
  *amendment->mutable_amended_by() = Person("Mrs A. Office", "office");
  return amendment;
}

v1::ImportHistoryRequest Import(const std::string& request_id) {
  v1::ImportHistoryRequest request;
  request.set_school_id("s1");
  request.set_request_id(request_id);
  request.set_source("SIMS export 2025-10-01");
  return request;
}

// p1 absent unexplained on 2025-09-08 AM, amended to illness two days later;
// p2 present that morning.
v1::ImportHistoryRequest TwoMarks(const std::string& request_id) {
  v1::ImportHistoryRequest request = Import(request_id);
  v1::ImportedMark* absent = request.add_marks();
  *absent = Imported("p1", "2025-09-08", v1::AM, "N", LocalUs(2025, 9, 8, 9, 5));
  absent->set_comment("no call from home");
  Amend(*absent, "I", LocalUs(2025, 9, 10, 11, 30), "Parent confirmed illness by phone");
  *request.add_marks() = Imported("p2", "2025-09-08", v1::AM, "/", LocalUs(2025, 9, 8, 9, 5));
  return request;
}

TEST_CASE("ImportHistory stores the source's times, people and name", "[ledger][import]") {
  LedgerFixture f(2);
  const ledger::Position before = f.ledger->LastPosition();
  auto result = f.ledger->ImportHistory(kOfficer, TwoMarks("import-1"));
  REQUIRE(result.ok());
  CHECK(result->marks_written() == 2);
  CHECK(result->amendments_written() == 1);
  CHECK(result->skipped() == 0);
  CHECK(result->first_position() == before + 1);
  CHECK(result->last_position() == before + 3);
  CHECK(f.ledger->LastPosition() == before + 3);

  const auto events = EventsFrom(*f.ledger, before + 1);
  REQUIRE(events.size() == 3);
  for (const auto& e : events) {
    CHECK(e.actor().name() == kOfficer.name);  // the importer
    CHECK(e.recorded_at_us() == f.now_us.load());
    CHECK(e.request_id() == "import-1");
  }
  REQUIRE(events[0].has_mark_recorded());
  const v1::MarkRecorded& taken = events[0].mark_recorded();
  CHECK(taken.code() == "N");
  CHECK(taken.taken_at_us() == LocalUs(2025, 9, 8, 9, 5));
  CHECK(taken.taken_by().name() == "Miss C. Patel");
  CHECK(taken.comment() == "no call from home");
  CHECK(taken.imported_from() == "SIMS export 2025-10-01");
  REQUIRE(events[1].has_mark_amended());
  const v1::MarkAmended& amended = events[1].mark_amended();
  CHECK(amended.original_code() == "N");
  CHECK(amended.amended_code() == "I");
  CHECK(amended.amended_at_us() == LocalUs(2025, 9, 10, 11, 30));
  CHECK(amended.amended_by().name() == "Mrs A. Office");
  CHECK(amended.reason() == "Parent confirmed illness by phone");
  CHECK(amended.imported_from() == "SIMS export 2025-10-01");
  CHECK(events[1].stream_version() == events[0].stream_version() + 1);
  REQUIRE(events[2].has_mark_recorded());
  CHECK(events[2].mark_recorded().code() == "/");

  // The session now holds the amended code, as any amended mark does.
  v1::RecordMarksRequest again;
  again.set_school_id("s1");
  *again.add_marks() = MakeMark("p1", "2025-09-08", v1::AM, "/");
  CHECK_THAT(std::string(f.ledger->RecordMarks(kOfficer, again).status().message()),
             Contains("already has mark \"I\""));
  REQUIRE(f.ledger->VerifyIndexes().ok());
}

TEST_CASE(
    "ImportHistory without source times or people: taken when the register opened, amended "
    "now, by the importer",
    "[ledger][import]") {
  LedgerFixture f(1);
  v1::ImportHistoryRequest request = Import("");
  v1::ImportedMark* mark = request.add_marks();
  *mark = Imported("p1", "2025-10-08", v1::PM, "/", 0);
  mark->clear_taken_by();
  Amend(*mark, "L", 0, "arrived late, register corrected")->set_minutes_late(10);
  mark->mutable_amendments(0)->clear_amended_by();
  auto result = f.ledger->ImportHistory(kOfficer, request);
  REQUIRE(result.ok());
  const auto events = EventsFrom(*f.ledger, result->first_position());
  REQUIRE(events.size() == 2);
  CHECK(events[0].mark_recorded().taken_at_us() == LocalUs(2025, 10, 8, 12, 0));
  CHECK(events[0].mark_recorded().taken_by().name() == kOfficer.name);
  CHECK(events[1].mark_amended().amended_at_us() == f.now_us.load());
  CHECK(events[1].mark_amended().amended_by().name() == kOfficer.name);
  CHECK(events[1].mark_amended().minutes_late() == 10);
}

TEST_CASE("ImportHistory accepts planned codes taken ahead, within the horizon",
          "[ledger][import]") {
  LedgerFixture f(1);
  v1::ImportHistoryRequest request = Import("");
  // Leave granted on 2025-09-01 for the 15th (14 days ahead).
  *request.add_marks() = Imported("p1", "2025-09-15", v1::AM, "C", LocalUs(2025, 9, 1, 15, 0));
  REQUIRE(f.ledger->ImportHistory(kOfficer, request).ok());
  // Without a source time, a planned code for a session ahead is taken now.
  v1::ImportHistoryRequest ahead = Import("");
  *ahead.add_marks() = Imported("p1", "2025-10-20", v1::AM, "C", 0);
  auto planned = f.ledger->ImportHistory(kOfficer, ahead);
  REQUIRE(planned.ok());
  CHECK(EventsFrom(*f.ledger, planned->first_position())[0].mark_recorded().taken_at_us() ==
        f.now_us.load());
  ahead.mutable_marks(0)->set_code("/");
  auto early = f.ledger->ImportHistory(kOfficer, ahead);
  CHECK(early.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(early.status().message()), Contains("2025-10-20 AM has not begun"));

  v1::ImportHistoryRequest far = Import("");
  *far.add_marks() = Imported("p1", "2025-10-06", v1::AM, "C", LocalUs(2025, 9, 1, 15, 0));
  auto refused = f.ledger->ImportHistory(kOfficer, far);
  CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(refused.status().message()),
             Contains("marks[0].taken_at_us") && Contains("at most 28 days ahead"));
}

struct Refusal {
  const char* what;
  std::function<void(v1::ImportHistoryRequest&)> change;
  absl::StatusCode code;
  const char* message;
};

TEST_CASE("ImportHistory refuses a bad entry anywhere, naming it, and writes nothing",
          "[ledger][import]") {
  LedgerFixture f(2);
  const std::int64_t now = f.now_us.load();
  const std::vector<Refusal> refusals = {
      {"taken in the future", [&](auto& r) { r.mutable_marks(1)->set_taken_at_us(now + 1); },
       absl::StatusCode::kInvalidArgument, "marks[1].taken_at_us: "},
      {"present mark taken before the register opened",
       [](auto& r) { r.mutable_marks(1)->set_taken_at_us(LocalUs(2025, 9, 8, 7, 30)); },
       absl::StatusCode::kInvalidArgument, "marks[1].taken_at_us: 2025-09-08 AM has not begun"},
      {"present mark taken the day before",
       [](auto& r) { r.mutable_marks(1)->set_taken_at_us(LocalUs(2025, 9, 7, 12, 0)); },
       absl::StatusCode::kInvalidArgument, "marks[1].taken_at_us"},
      {"amended before it was taken",
       [](auto& r) {
         r.mutable_marks(0)->mutable_amendments(0)->set_amended_at_us(LocalUs(2025, 9, 8, 9, 0));
       },
       absl::StatusCode::kInvalidArgument,
       "marks[0].amendments[0].amended_at_us: 1757318400000000 (2025-09-08T08:00:00Z) is before "
       "the mark was taken"},
      {"amendments out of time order",
       [](auto& r) {
         Amend(*r.mutable_marks(0), "M", LocalUs(2025, 9, 9, 10, 0), "appointment card seen");
       },
       absl::StatusCode::kInvalidArgument,
       "marks[0].amendments[1].amended_at_us: 1757408400000000 (2025-09-09T09:00:00Z) is before "
       "amendments[0]"},
      {"amended in the future",
       [&](auto& r) { r.mutable_marks(0)->mutable_amendments(0)->set_amended_at_us(now + 1); },
       absl::StatusCode::kInvalidArgument, "marks[0].amendments[0].amended_at_us: "},
      {"amendment without a reason",
       [](auto& r) { r.mutable_marks(0)->mutable_amendments(0)->clear_reason(); },
       absl::StatusCode::kInvalidArgument, "marks[0].amendments[0].reason"},
      {"amendment to the code it already has",
       [](auto& r) { r.mutable_marks(0)->mutable_amendments(0)->set_amended_code("N"); },
       absl::StatusCode::kInvalidArgument, "marks[0].amendments[0].amended_code: \"N\""},
      {"amendment to an unknown code",
       [](auto& r) { r.mutable_marks(0)->mutable_amendments(0)->set_amended_code("H"); },
       absl::StatusCode::kInvalidArgument, "marks[0].amendments[0].amended_code: \"H\""},
      {"unknown code", [](auto& r) { r.mutable_marks(1)->set_code("Q9"); },
       absl::StatusCode::kInvalidArgument, "marks[1].code: \"Q9\""},
      {"a Saturday",
       [](auto& r) {
         r.mutable_marks(1)->set_date("2025-09-06");
         r.mutable_marks(1)->set_taken_at_us(LocalUs(2025, 9, 6, 9, 0));
       },
       absl::StatusCode::kInvalidArgument, "marks[1].date: 2025-09-06 is not a school day"},
      {"unknown pupil", [](auto& r) { r.mutable_marks(1)->set_pupil_id("p9"); },
       absl::StatusCode::kNotFound, "marks[1].pupil_id"},
      {"a session twice",
       [](auto& r) {
         *r.add_marks() = Imported("p2", "2025-09-08", v1::AM, "/", LocalUs(2025, 9, 8, 9, 6));
       },
       absl::StatusCode::kInvalidArgument, "marks[2]: repeats marks[1]"},
      {"no source", [](auto& r) { r.clear_source(); }, absl::StatusCode::kInvalidArgument,
       "source"},
      {"no marks", [](auto& r) { r.clear_marks(); }, absl::StatusCode::kInvalidArgument,
       "marks: the import is empty"},
      {"17 amendments",
       [](auto& r) {
         v1::ImportedMark& mark = *r.mutable_marks(0);
         mark.clear_amendments();
         for (int i = 0; i < 17; ++i) {
           Amend(mark, i % 2 == 0 ? "I" : "N", LocalUs(2025, 9, 9, 9, i), "back and forth");
         }
       },
       absl::StatusCode::kInvalidArgument,
       "marks[0].amendments: 17 amendments is more than the limit of 16 per mark"},
      {"an amender's name over 200 characters",
       [](auto& r) {
         r.mutable_marks(0)->mutable_amendments(0)->mutable_amended_by()->set_name(
             std::string(201, 'a'));
       },
       absl::StatusCode::kInvalidArgument, "marks[0].amendments[0].amended_by.name"},
  };
  for (const Refusal& refusal : refusals) {
    DYNAMIC_SECTION(refusal.what) {
      v1::ImportHistoryRequest request = TwoMarks("");
      refusal.change(request);
      const ledger::Position before = f.ledger->LastPosition();
      auto result = f.ledger->ImportHistory(kOfficer, request);
      CHECK(result.status().code() == refusal.code);
      CHECK_THAT(std::string(result.status().message()), Contains(refusal.message));
      CHECK(f.ledger->LastPosition() == before);
    }
  }
}

TEST_CASE("ImportHistory is idempotent: by request id, and by what is already there",
          "[ledger][import]") {
  LedgerFixture f(2);
  auto first = f.ledger->ImportHistory(kOfficer, TwoMarks("import-1"));
  REQUIRE(first.ok());
  const ledger::Position after_first = f.ledger->LastPosition();

  auto replay = f.ledger->ImportHistory(kOfficer, TwoMarks("import-1"));
  REQUIRE(replay.ok());
  CHECK(replay->replayed());
  CHECK(replay->marks_written() == 2);

  // The same file again under another request id: every mark is there.
  auto again = f.ledger->ImportHistory(kOfficer, TwoMarks("import-2"));
  REQUIRE(again.ok());
  CHECK_FALSE(again->replayed());
  CHECK(again->marks_written() == 0);
  CHECK(again->amendments_written() == 0);
  CHECK(again->skipped() == 2);
  CHECK(again->first_position() == 0);
  CHECK(f.ledger->LastPosition() == after_first);
  // ...and a file that adds one mark writes only that one.
  v1::ImportHistoryRequest more = TwoMarks("import-3");
  *more.add_marks() = Imported("p1", "2025-09-08", v1::PM, "I", LocalUs(2025, 9, 8, 13, 15));
  auto grown = f.ledger->ImportHistory(kOfficer, more);
  REQUIRE(grown.ok());
  CHECK(grown->marks_written() == 1);
  CHECK(grown->skipped() == 2);
  CHECK(grown->first_position() == after_first + 1);
  CHECK(f.ledger->LastPosition() == after_first + 1);

  // A session whose history ends differently is refused, naming it.
  v1::ImportHistoryRequest other = TwoMarks("import-4");
  other.mutable_marks(0)->mutable_amendments(0)->set_amended_code("M");
  auto refused = f.ledger->ImportHistory(kOfficer, other);
  CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(refused.status().message()),
             Contains("marks[0]: pupil \"p1\" already has mark \"I\" for 2025-09-08 AM") &&
                 Contains("ends with \"M\""));
  CHECK(f.ledger->LastPosition() == after_first + 1);

  // The request log holds the import that wrote nothing; the indexes agree,
  // also after a restart, when its retry is answered from disk.
  REQUIRE(f.ledger->VerifyIndexes().ok());
  f.Reopen();
  REQUIRE(f.ledger->VerifyIndexes().ok());
  auto from_disk = f.ledger->ImportHistory(kOfficer, TwoMarks("import-2"));
  REQUIRE(from_disk.ok());
  CHECK(from_disk->replayed());
  CHECK(from_disk->skipped() == 2);
}

TEST_CASE("ImportHistory is not a register-taker's", "[ledger][import]") {
  LedgerFixture f(2);
  ledger::Principal taker{"Ms T. Teacher", "register"};
  taker.open_registers_only = true;
  const ledger::Position before = f.ledger->LastPosition();
  auto refused = f.ledger->ImportHistory(taker, TwoMarks(""));
  CHECK(refused.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(f.ledger->LastPosition() == before);
}

TEST_CASE("ImportHistory is one atomic batch", "[ledger][import]") {
  LedgerFixture f(2);
  v1::ImportHistoryRequest request = TwoMarks("");
  // 200 good sessions, then one not on roll: nothing at all is written.
  request.clear_marks();
  for (int day = 8; day <= 12; ++day) {
    for (int pupil = 1; pupil <= 2; ++pupil) {
      const std::string date = "2025-09-" + std::string(day < 10 ? "0" : "") + std::to_string(day);
      *request.add_marks() =
          Imported("p" + std::to_string(pupil), date, v1::AM, "/", LocalUs(2025, 9, day, 9, 0));
    }
  }
  *request.add_marks() = Imported("p1", "2025-09-01", v1::AM, "/", LocalUs(2025, 9, 1, 9, 0));
  const ledger::Position before = f.ledger->LastPosition();
  auto refused = f.ledger->ImportHistory(kOfficer, request);
  CHECK_FALSE(refused.ok());
  CHECK_THAT(std::string(refused.status().message()), Contains("marks[10]"));
  CHECK(f.ledger->LastPosition() == before);
  request.mutable_marks()->RemoveLast();
  auto accepted = f.ledger->ImportHistory(kOfficer, request);
  REQUIRE(accepted.ok());
  CHECK(accepted->marks_written() == 10);
  CHECK(f.ledger->LastPosition() == before + 10);
}

}  // namespace
}  // namespace attendance::testing
