// Every validation rule: a rejected request gets the right code, a message
// naming the field and value, and writes nothing.
#include <catch2/catch.hpp>

#include "ledger/ledger.h"
#include "support/fixtures.h"

namespace attendance::testing {
namespace {

struct Rejection {
  absl::StatusCode code;
  std::string message;
};

// Records `marks` as one batch and expects it rejected with nothing written.
Rejection Reject(LedgerFixture& f, std::vector<v1::Mark> marks, const std::string& school = "s1",
                 const ledger::Principal& actor = kTeacher) {
  v1::RecordMarksRequest request;
  request.set_school_id(school);
  request.set_request_id("bad-batch");
  for (auto& m : marks) *request.add_marks() = std::move(m);
  const auto before = f.ledger->LastPosition();
  auto result = f.ledger->RecordMarks(actor, request);
  REQUIRE_FALSE(result.ok());
  CHECK(f.ledger->LastPosition() == before);
  return {result.status().code(), std::string(result.status().message())};
}

using Catch::Contains;

TEST_CASE("bad marks are refused with the field and value named", "[ledger][validation]") {
  LedgerFixture f(2);
  const auto ok = MakeMark("p1", "2025-09-08", v1::AM, "/");

  SECTION("unknown code") {
    auto r = Reject(f, {ok, MakeMark("p2", "2025-09-08", v1::AM, "Q9")});
    CHECK(r.code == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(r.message, Contains("marks[1].code") && Contains("\"Q9\""));
  }
  SECTION("a legacy code after the 2024 cut-over") {
    auto r = Reject(f, {MakeMark("p1", "2025-09-08", v1::AM, "H")});
    CHECK(r.code == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(r.message, Contains("marks[0].code") && Contains("\"H\"") && Contains("2025-09-08"));
  }
  SECTION("session other than AM or PM") {
    auto r = Reject(f, {MakeMark("p1", "2025-09-08", v1::SESSION_UNSPECIFIED, "/")});
    CHECK(r.code == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(r.message, Contains("marks[0].session"));
  }
  SECTION("malformed date") {
    auto r = Reject(f, {MakeMark("p1", "2025-02-30", v1::AM, "/")});
    CHECK(r.code == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(r.message, Contains("marks[0].date") && Contains("2025-02-30"));
  }
  SECTION("a weekend") {
    auto r = Reject(f, {MakeMark("p1", "2025-09-06", v1::AM, "/")});
    CHECK(r.code == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(r.message, Contains("2025-09-06") && Contains("Saturday"));
  }
  SECTION("a holiday") {
    auto r = Reject(f, {MakeMark("p1", "2025-10-28", v1::AM, "/")});
    CHECK(r.code == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(r.message, Contains("2025-10-28") && Contains("not a school day"));
  }
  SECTION("a year with no calendar") {
    auto r = Reject(f, {MakeMark("p1", "2026-09-08", v1::AM, "/")});
    CHECK(r.code == absl::StatusCode::kFailedPrecondition);
    CHECK_THAT(r.message, Contains("2026-27"));
  }
  SECTION("a whole-school closure takes only #") {
    auto r = Reject(f, {MakeMark("p1", "2025-09-19", v1::AM, "/")});
    CHECK(r.code == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(r.message, Contains("closure"));
    v1::RecordMarksRequest hash;
    hash.set_school_id("s1");
    *hash.add_marks() = MakeMark("p1", "2025-09-19", v1::AM, "#");
    CHECK(f.ledger->RecordMarks(kTeacher, hash).ok());
  }
  SECTION("a year-group closure applies to that year group and session only") {
    auto r = Reject(f, {MakeMark("p1", "2025-10-01", v1::AM, "/")});
    CHECK(r.code == absl::StatusCode::kInvalidArgument);
    REQUIRE(f.ledger->EnrolPupil(kOfficer, Enrol("s1", "y8", "2025-09-01", 8)).ok());
    v1::RecordMarksRequest fine;
    fine.set_school_id("s1");
    *fine.add_marks() = MakeMark("y8", "2025-10-01", v1::AM, "/");
    *fine.add_marks() = MakeMark("p1", "2025-10-01", v1::PM, "\\");
    CHECK(f.ledger->RecordMarks(kTeacher, fine).ok());
  }
  SECTION("a pupil not yet on roll") {
    REQUIRE(f.ledger->EnrolPupil(kOfficer, Enrol("s1", "late", "2025-10-06")).ok());
    auto r = Reject(f, {MakeMark("late", "2025-09-08", v1::AM, "/")});
    CHECK(r.code == absl::StatusCode::kFailedPrecondition);
    CHECK_THAT(r.message, Contains("not on roll") && Contains("2025-09-08"));
  }
  SECTION("a pupil who has left the roll") {
    v1::RemoveFromRollRequest leave;
    leave.set_school_id("s1");
    leave.set_pupil_id("p2");
    leave.set_last_day_on_roll("2025-09-30");
    leave.set_reason("moved school");
    REQUIRE(f.ledger->RemoveFromRoll(kOfficer, leave).ok());
    auto r = Reject(f, {MakeMark("p2", "2025-10-02", v1::AM, "/")});
    CHECK(r.code == absl::StatusCode::kFailedPrecondition);
    v1::RecordMarksRequest before_leaving;
    before_leaving.set_school_id("s1");
    *before_leaving.add_marks() = MakeMark("p2", "2025-09-30", v1::AM, "/");
    CHECK(f.ledger->RecordMarks(kTeacher, before_leaving).ok());
  }
  SECTION("an unknown pupil") {
    auto r = Reject(f, {MakeMark("nobody", "2025-09-08", v1::AM, "/")});
    CHECK(r.code == absl::StatusCode::kNotFound);
    CHECK_THAT(r.message, Contains("marks[0].pupil_id") && Contains("nobody"));
  }
  SECTION("an unknown school") {
    auto r = Reject(f, {ok}, "elsewhere");
    CHECK(r.code == absl::StatusCode::kNotFound);
    CHECK_THAT(r.message, Contains("elsewhere"));
  }
  SECTION("a second mark for the same session") {
    v1::RecordMarksRequest first;
    first.set_school_id("s1");
    *first.add_marks() = ok;
    REQUIRE(f.ledger->RecordMarks(kTeacher, first).ok());
    auto r = Reject(
        f, {MakeMark("p2", "2025-09-08", v1::AM, "/"), MakeMark("p1", "2025-09-08", v1::AM, "N")});
    CHECK(r.code == absl::StatusCode::kAlreadyExists);
    CHECK_THAT(r.message, Contains("marks[1]") && Contains("AmendMark"));
  }
  SECTION("the same session twice in one batch") {
    auto r = Reject(f, {ok, MakeMark("p1", "2025-09-08", v1::AM, "N")});
    CHECK(r.code == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(r.message, Contains("marks[1]") && Contains("repeats marks[0]"));
  }
  SECTION("minutes late on a code that is not L or U") {
    auto late = MakeMark("p1", "2025-09-08", v1::AM, "/");
    late.set_minutes_late(5);
    auto r = Reject(f, {late});
    CHECK(r.code == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(r.message, Contains("marks[0].minutes_late"));
  }
  SECTION("an empty batch") {
    auto r = Reject(f, {});
    CHECK(r.code == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(r.message, Contains("empty"));
  }
  SECTION("an oversized batch") {
    std::vector<v1::Mark> many(10001, ok);
    auto r = Reject(f, many);
    CHECK(r.code == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(r.message, Contains("10001"));
  }
  SECTION("a huge value is quoted cut short") {
    auto r = Reject(f, {MakeMark("p1", std::string(20000, '2'), v1::AM, "/")});
    CHECK(r.code == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(r.message, Contains("marks[0].date") && Contains("...\""));
    CHECK(r.message.size() < 200);
  }
  SECTION("no principal (services/ answers UNAUTHENTICATED before the ledger)") {
    auto r = Reject(f, {ok}, "s1", ledger::Principal{});
    CHECK(r.code == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(r.message, Contains("principal: name \"\"") && !Contains("x-actor"));
  }
}

TEST_CASE("legacy codes are valid for sessions before 2024-08-19 and 2024 codes are not",
          "[ledger][validation]") {
  LedgerFixture f(1);
  v1::SetSchoolCalendarRequest old_year;
  old_year.set_school_id("s1");
  old_year.mutable_calendar()->set_academic_year(2023);
  auto* term = old_year.mutable_calendar()->add_terms();
  term->set_name("Summer");
  auto* half = term->add_half_terms();
  half->set_name("Summer 2");
  half->set_first_day("2024-06-03");
  half->set_last_day("2024-07-19");
  REQUIRE(f.ledger->SetSchoolCalendar(kOfficer, old_year).ok());
  v1::EnrolPupilRequest enrol = Enrol("s1", "old", "2023-09-01");
  REQUIRE(f.ledger->EnrolPupil(kOfficer, enrol).ok());

  v1::RecordMarksRequest legacy;
  legacy.set_school_id("s1");
  *legacy.add_marks() = MakeMark("old", "2024-06-03", v1::AM, "H");
  *legacy.add_marks() = MakeMark("old", "2024-06-03", v1::PM, "J");
  CHECK(f.ledger->RecordMarks(kTeacher, legacy).ok());

  auto r = Reject(f, {MakeMark("old", "2024-06-04", v1::AM, "C1")});
  CHECK(r.code == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(r.message, Contains("\"C1\"") && Contains("valid from 2024-08-19"));

  SECTION("old sessions are checked against the stored index, also after a restart") {
    f.Reopen();
    auto dup = Reject(f, {MakeMark("old", "2024-06-03", v1::AM, "I")});
    CHECK(dup.code == absl::StatusCode::kAlreadyExists);
  }
}

TEST_CASE("bad amendments are refused and write nothing", "[ledger][validation]") {
  LedgerFixture f(1);
  v1::RecordMarksRequest first;
  first.set_school_id("s1");
  *first.add_marks() = MakeMark("p1", "2025-09-08", v1::AM, "N");
  REQUIRE(f.ledger->RecordMarks(kTeacher, first).ok());
  const auto before = f.ledger->LastPosition();

  v1::AmendMarkRequest amend;
  amend.set_school_id("s1");
  amend.set_pupil_id("p1");
  amend.set_date("2025-09-08");
  amend.set_session(v1::AM);
  amend.set_amended_code("I");
  amend.set_reason("illness");

  SECTION("no reason") {
    amend.clear_reason();
    auto r = f.ledger->AmendMark(kOfficer, amend);
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(r.status().message()), Contains("reason"));
  }
  SECTION("unchanged code") {
    amend.set_amended_code("N");
    auto r = f.ledger->AmendMark(kOfficer, amend);
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(r.status().message()), Contains("amended_code") && Contains("\"N\""));
  }
  SECTION("no mark to amend") {
    amend.set_session(v1::PM);
    CHECK(f.ledger->AmendMark(kOfficer, amend).status().code() == absl::StatusCode::kNotFound);
  }
  SECTION("an invalid amended code") {
    amend.set_amended_code("H");
    auto r = f.ledger->AmendMark(kOfficer, amend);
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(r.status().message()), Contains("amended_code") && Contains("\"H\""));
  }
  CHECK(f.ledger->LastPosition() == before);
}

TEST_CASE("bad enrolments, calendars and settings are refused", "[ledger][validation]") {
  LedgerFixture f(1);
  const auto before = f.ledger->LastPosition();
  SECTION("enrolling a pupil already on roll") {
    auto r = f.ledger->EnrolPupil(kOfficer, Enrol("s1", "p1"));
    CHECK(r.status().code() == absl::StatusCode::kAlreadyExists);
  }
  SECTION("a pupil without a name") {
    auto e = Enrol("s1", "p9");
    e.mutable_pupil()->clear_family_name();
    auto r = f.ledger->EnrolPupil(kOfficer, e);
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(r.status().message()), Contains("pupil.family_name"));
  }
  SECTION("a pupil id with spaces") {
    auto r = f.ledger->EnrolPupil(kOfficer, Enrol("s1", "p 9"));
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(r.status().message()),
               Contains("pupil.pupil_id") && Contains("\"p 9\""));
  }
  SECTION("overlapping half-terms") {
    auto c = Calendar2025("s1");
    c.mutable_calendar()->mutable_terms(0)->mutable_half_terms(1)->set_first_day("2025-10-20");
    auto r = f.ledger->SetSchoolCalendar(kOfficer, c);
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(r.status().message()), Contains("overlap") && Contains("2025-10-20"));
  }
  SECTION("a half-term outside its academic year") {
    auto c = Calendar2025("s1");
    c.mutable_calendar()->mutable_terms(0)->mutable_half_terms(1)->set_last_day("2026-08-03");
    auto r = f.ledger->SetSchoolCalendar(kOfficer, c);
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(r.status().message()), Contains("calendar.terms[0].half_terms[1]"));
  }
  SECTION("too many rolling windows, or a repeated one") {
    auto s = Settings("s1");
    for (int w = 1; w <= 9; ++w) s.mutable_settings()->add_rolling_window_weeks(w);
    CHECK(f.ledger->SetSchoolSettings(kOfficer, s).status().code() ==
          absl::StatusCode::kInvalidArgument);
    s.mutable_settings()->clear_rolling_window_weeks();
    s.mutable_settings()->add_rolling_window_weeks(4);
    s.mutable_settings()->add_rolling_window_weeks(4);
    auto r = f.ledger->SetSchoolSettings(kOfficer, s);
    CHECK_THAT(std::string(r.status().message()), Contains("rolling_window_weeks[1]: 4 repeats"));
  }
  SECTION("a closure for a year group that does not exist") {
    auto c = Calendar2025("s1");
    c.mutable_calendar()->mutable_closures(1)->add_year_groups(99);
    auto r = f.ledger->SetSchoolCalendar(kOfficer, c);
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(r.status().message()), Contains("closures[1].year_groups[1]: 99"));
  }
  SECTION("a closure listing a year group twice, or more year groups than exist") {
    auto c = Calendar2025("s1");
    c.mutable_calendar()->mutable_closures(1)->add_year_groups(7);
    auto r = f.ledger->SetSchoolCalendar(kOfficer, c);
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(r.status().message()) ==
          "calendar.closures[1].year_groups[1]: 7 repeats [0]");
    for (int i = 0; i < 1'000'000; ++i)
      c.mutable_calendar()->mutable_closures(1)->add_year_groups(7);
    r = f.ledger->SetSchoolCalendar(kOfficer, c);
    CHECK(std::string(r.status().message()) ==
          "calendar.closures[1].year_groups: 1000002 year groups is more than 16");
  }
  SECTION("more closures, terms or half-terms than the limits") {
    auto c = Calendar2025("s1");
    for (int i = 0; i < 400; ++i) *c.mutable_calendar()->add_closures() = c.calendar().closures(0);
    auto r = f.ledger->SetSchoolCalendar(kOfficer, c);
    CHECK(std::string(r.status().message()) == "calendar.closures: 402 closures is more than 400");
    c = Calendar2025("s1");
    for (int i = 0; i < 6; ++i) *c.mutable_calendar()->add_terms() = c.calendar().terms(0);
    r = f.ledger->SetSchoolCalendar(kOfficer, c);
    CHECK(std::string(r.status().message()) == "calendar.terms: 7 terms is more than 6");
    c = Calendar2025("s1");
    for (int i = 0; i < 5; ++i) {
      *c.mutable_calendar()->mutable_terms(0)->add_half_terms() =
          c.calendar().terms(0).half_terms(0);
    }
    r = f.ledger->SetSchoolCalendar(kOfficer, c);
    CHECK(std::string(r.status().message()) ==
          "calendar.terms[0].half_terms: 7 half-terms is more than 6");
  }
  SECTION("a pupil name over 100 characters") {
    auto e = Enrol("s1", "p9");
    e.mutable_pupil()->set_given_name(std::string(101, 'x'));
    auto r = f.ledger->EnrolPupil(kOfficer, e);
    CHECK(std::string(r.status().message()) ==
          "pupil.given_name: 101 characters is longer than 100");
  }
  SECTION("a term name of a megabyte") {
    auto c = Calendar2025("s1");
    c.mutable_calendar()->mutable_terms(0)->set_name(std::string(1 << 20, 'x'));
    CHECK(f.ledger->SetSchoolCalendar(kOfficer, c).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
  SECTION("a leaving date years ahead") {
    v1::RemoveFromRollRequest leave;
    leave.set_school_id("s1");
    leave.set_pupil_id("p1");
    leave.set_last_day_on_roll("9999-12-31");
    leave.set_reason("typo");
    auto r = f.ledger->RemoveFromRoll(kOfficer, leave);
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(r.status().message()), Contains("last_day_on_roll: 9999-12-31"));
  }
  SECTION("retention below three years") {
    auto s = Settings("s1");
    s.mutable_settings()->set_retention_years(2);
    auto r = f.ledger->SetSchoolSettings(kOfficer, s);
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(r.status().message()), Contains("settings.retention_years: 2"));
  }
  SECTION("a malformed register close time") {
    auto s = Settings("s1");
    s.mutable_settings()->set_am_register_closes("9.25");
    auto r = f.ledger->SetSchoolSettings(kOfficer, s);
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(r.status().message()),
               Contains("am_register_closes") && Contains("9.25"));
  }
  SECTION("a letter without a channel") {
    v1::RecordLetterRequest letter;
    letter.set_school_id("s1");
    letter.set_pupil_id("p1");
    letter.set_letter_id("letter_1");
    letter.set_sent_on("2025-10-01");
    auto r = f.ledger->RecordLetter(kOfficer, letter);
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(r.status().message()), Contains("channel"));
  }
  CHECK(f.ledger->LastPosition() == before);
}

}  // namespace
}  // namespace attendance::testing
