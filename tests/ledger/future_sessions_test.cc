// Issue 10, finding 8: a register records what happened. Present, late and
// unexplained-absence codes only for sessions that have begun (the school's
// local time against its register opening times); planned codes ahead, but
// only within the school's horizon. Everything else: FAILED_PRECONDITION
// naming the date, the session and the rule, and nothing written.
#include <catch2/catch.hpp>

#include "ledger/ledger.h"
#include "support/fixtures.h"

namespace attendance::testing {
namespace {

using Catch::Contains;

// An instant given as a time in England in summer (BST = UTC+1), which
// every date below is: 2025-03-30 to 2025-10-26.
std::int64_t Bst(const char* date, int hour, int minute) {
  return (static_cast<std::int64_t>(*ledger::ParseDate(date)) * 86400 + (hour - 1) * 3600 +
          minute * 60) *
         1'000'000;
}

absl::StatusOr<v1::RecordMarksResponse> Record(LedgerFixture& f, const std::string& pupil,
                                               const std::string& date, v1::Session session,
                                               const std::string& code) {
  v1::RecordMarksRequest request;
  request.set_school_id("s1");
  *request.add_marks() = MakeMark(pupil, date, session, code);
  return f.ledger->RecordMarks(kTeacher, request);
}

// Expects a refusal that wrote nothing, and returns its message.
std::string Refused(LedgerFixture& f, const std::string& pupil, const std::string& date,
                    v1::Session session, const std::string& code) {
  const auto before = f.ledger->LastPosition();
  auto result = Record(f, pupil, date, session, code);
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(f.ledger->LastPosition() == before);
  return std::string(result.status().message());
}

void SetSettings(LedgerFixture& f, const std::function<void(v1::SchoolSettings&)>& change) {
  v1::SetSchoolSettingsRequest request = Settings("s1");
  change(*request.mutable_settings());
  REQUIRE(f.ledger->SetSchoolSettings(kOfficer, request).ok());
}

TEST_CASE(
    "a present mark for today's AM: refused a minute before the register opens, "
    "accepted at the opening time (school-local)",
    "[ledger][validation][future]") {
  LedgerFixture f(2);
  SetSettings(f, [](v1::SchoolSettings& s) { s.set_am_register_opens("08:45"); });
  f.now_us = Bst("2025-09-08", 8, 44);
  const std::string message = Refused(f, "p1", "2025-09-08", v1::AM, "/");
  CHECK(message ==
        "marks[0].date: 2025-09-08 AM has not begun (its register opens at 08:45 Europe/London "
        "time; now 2025-09-08 08:44): a register records what happened, so \"/\" cannot be "
        "entered ahead; only planned codes (C C1 C2 J1 S M R E K V P W B D X #) can");
  f.now_us = Bst("2025-09-08", 8, 45);
  CHECK(Record(f, "p1", "2025-09-08", v1::AM, "/").ok());
}

TEST_CASE("without settings the registers open at 08:00 and 12:00",
          "[ledger][validation][future]") {
  LedgerFixture f(1);
  f.now_us = Bst("2025-09-08", 7, 59);
  CHECK_THAT(Refused(f, "p1", "2025-09-08", v1::AM, "/"), Contains("opens at 08:00"));
  f.now_us = Bst("2025-09-08", 8, 0);
  CHECK(Record(f, "p1", "2025-09-08", v1::AM, "/").ok());
  f.now_us = Bst("2025-09-08", 11, 59);
  CHECK_THAT(Refused(f, "p1", "2025-09-08", v1::PM, "\\"),
             Contains("2025-09-08 PM has not begun") && Contains("opens at 12:00"));
  f.now_us = Bst("2025-09-08", 12, 0);
  CHECK(Record(f, "p1", "2025-09-08", v1::PM, "\\").ok());
}

TEST_CASE("what happened cannot be recorded ahead: / \\ L U N O G, and I",
          "[ledger][validation][future]") {
  LedgerFixture f(1);
  SECTION("a present mark 200 days ahead (the finding)") {
    f.now_us = Bst("2025-03-01", 10, 0);  // GMT in fact; the hour does not matter here
    CHECK_THAT(Refused(f, "p1", "2025-09-17", v1::AM, "/"),
               Contains("marks[0].date: 2025-09-17 AM has not begun") &&
                   Contains("a register records what happened"));
  }
  SECTION("an illness three weeks ahead (the finding)") {
    f.now_us = Bst("2025-09-08", 10, 0);
    CHECK_THAT(Refused(f, "p1", "2025-09-29", v1::AM, "I"),
               Contains("2025-09-29 AM") && Contains("\"I\" cannot be entered ahead"));
  }
  SECTION("every present, late and unexplained-absence code, tomorrow") {
    f.now_us = Bst("2025-09-08", 16, 0);
    for (const char* code : {"/", "L", "U", "N", "O", "G"}) {
      CHECK_THAT(Refused(f, "p1", "2025-09-09", v1::AM, code), Contains("has not begun"));
    }
    CHECK_THAT(Refused(f, "p1", "2025-09-09", v1::PM, "\\"), Contains("has not begun"));
  }
}

TEST_CASE("planned codes may be entered ahead, up to the school's horizon",
          "[ledger][validation][future]") {
  LedgerFixture f(16);
  f.now_us = Bst("2025-09-08", 10, 0);
  SECTION("every planned code, a week ahead") {
    int pupil = 1;
    for (const char* code :
         {"C", "C1", "C2", "J1", "S", "M", "R", "E", "K", "V", "P", "W", "B", "D", "X"}) {
      INFO(code);
      CHECK(Record(f, "p" + std::to_string(pupil++), "2025-09-15", v1::AM, code).ok());
    }
    // The INSET day of 2025-09-19: a planned closure.
    CHECK(Record(f, "p16", "2025-09-19", v1::AM, "#").ok());
  }
  SECTION("at exactly the default horizon of 28 days, and one day past it") {
    CHECK(Record(f, "p1", "2025-10-06", v1::AM, "V").ok());
    CHECK(Refused(f, "p1", "2025-10-07", v1::AM, "V") ==
          "marks[0].date: 2025-10-07 AM is 29 days ahead of 2025-09-08; the planned code \"V\" "
          "may be entered at most 28 days ahead (settings.planned_codes_horizon_days)");
  }
  SECTION("at exactly a school's own horizon, and one day past it") {
    SetSettings(f, [](v1::SchoolSettings& s) { s.set_planned_codes_horizon_days(7); });
    CHECK(Record(f, "p1", "2025-09-15", v1::PM, "C").ok());
    CHECK_THAT(Refused(f, "p1", "2025-09-16", v1::PM, "C"),
               Contains("8 days ahead") && Contains("at most 7 days ahead"));
  }
  SECTION("today's sessions not yet begun are within the horizon") {
    f.now_us = Bst("2025-09-08", 7, 0);
    CHECK(Record(f, "p1", "2025-09-08", v1::AM, "M").ok());
  }
}

TEST_CASE("AmendMark follows the same rule", "[ledger][validation][future]") {
  LedgerFixture f(1);
  f.now_us = Bst("2025-09-08", 10, 0);
  REQUIRE(Record(f, "p1", "2025-09-15", v1::AM, "V").ok());
  v1::AmendMarkRequest amend;
  amend.set_school_id("s1");
  amend.set_pupil_id("p1");
  amend.set_date("2025-09-15");
  amend.set_session(v1::AM);
  amend.set_amended_code("/");
  amend.set_reason("trip cancelled");
  const auto before = f.ledger->LastPosition();
  auto refused = f.ledger->AmendMark(kOfficer, amend);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(refused.status().message()),
             Contains("date: 2025-09-15 AM has not begun") && Contains("\"/\""));
  CHECK(f.ledger->LastPosition() == before);
  amend.set_amended_code("B");
  CHECK(f.ledger->AmendMark(kOfficer, amend).ok());
  // Once the session has begun, what happened can be recorded.
  f.now_us = Bst("2025-09-15", 8, 30);
  amend.set_amended_code("/");
  CHECK(f.ledger->AmendMark(kOfficer, amend).ok());
}

// Issue 6, item 2: at 00:30 BST the school's date is already the next day,
// while UTC is still on the previous one.
TEST_CASE("at 00:30 BST validation's today is the local date", "[ledger][validation][clock]") {
  LedgerFixture f(1);
  f.now_us = Bst("2025-09-09", 0, 30);  // 2025-09-08 23:30 UTC
  // The horizon counts from 2025-09-09: 28 days later is accepted (29 from
  // the UTC date).
  CHECK(Record(f, "p1", "2025-10-07", v1::AM, "V").ok());
  // Today's AM register has not opened yet, and the message says so in
  // local time.
  CHECK_THAT(Refused(f, "p1", "2025-09-09", v1::AM, "/"), Contains("now 2025-09-09 00:30"));
  // Yesterday's PM has happened.
  CHECK(Record(f, "p1", "2025-09-08", v1::PM, "\\").ok());
  // Roll and letter dates: at most a year from the local today.
  v1::RecordLetterRequest letter;
  letter.set_school_id("s1");
  letter.set_pupil_id("p1");
  letter.set_letter_id("letter_1");
  letter.set_channel(v1::POST);
  letter.set_sent_on("2026-09-10");  // 366 days after 2025-09-09
  CHECK(f.ledger->RecordLetter(kOfficer, letter).ok());
  letter.set_sent_on("2026-09-11");
  CHECK(f.ledger->RecordLetter(kOfficer, letter).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("register opening times and the horizon are checked settings",
          "[ledger][validation][future]") {
  LedgerFixture f(1);
  auto refused = [&](const std::function<void(v1::SchoolSettings&)>& change) {
    v1::SetSchoolSettingsRequest request = Settings("s1");
    change(*request.mutable_settings());
    auto r = f.ledger->SetSchoolSettings(kOfficer, request);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    return std::string(r.status().message());
  };
  CHECK(refused([](auto& s) { s.set_am_register_opens("8:45"); }) ==
        "settings.am_register_opens: \"8:45\" is not a time (HH:MM)");
  CHECK(refused([](auto& s) { s.set_am_register_opens("09:30"); }) ==
        "settings.am_register_closes: 09:25 is not after the register opens (09:30)");
  CHECK(refused([](auto& s) { s.set_pm_register_opens("07:00"); }) ==
        "settings.pm_register_opens: 07:00 is not after the AM register opens (08:00)");
  CHECK(refused([](auto& s) { s.set_planned_codes_horizon_days(367); }) ==
        "settings.planned_codes_horizon_days: 367 is more than 366");
}

}  // namespace
}  // namespace attendance::testing
