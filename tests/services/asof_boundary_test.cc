// As-of boundaries on the day of a change, through the real ledger and its
// one clock (issue 6, "Done when"):
// - a settings change recorded on day D (the clock's date in England)
//   applies to figures as of D and not as of D-1, read from the attendance
//   read model hosted on the ledger;
// - the 2024 code set starts on exactly 2024-08-19 in the ledger's own
//   validation of RecordMarks and AmendMark, not only in the code table.
//
// Each can fail, checked by breaking the code and seeing these tests fail,
// then restoring it:
// - SchoolState::SettingsAsOf with `recorded < as_of` (a build that ignores
//   same-day settings): "as of D" keeps the old policy;
// - AttendanceState::Apply taking a settings event's day from UTC
//   (recorded_at_us / 86400'000'000) instead of SchoolLocalDay: the change
//   made at 00:30 BST lands on D-1;
// - CodeSet2024Start() returning 2024-08-20, and then 2024-08-16: C1 on the
//   19th is refused, then accepted on the 16th.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>

#include "ledger/clock.h"
#include "ledger/ledger.h"
#include "projections/attendance_queries.h"
#include "projections/live_attendance.h"
#include "services/attendance_read_model.h"
#include "services/read_model_host.h"
#include "support/fixtures.h"

namespace attendance::testing {
namespace {

using Catch::Contains;
using projections::AttendanceState;
using projections::LiveAttendance;
using services::AttendanceReadModel;
using services::ReadModelHost;

ledger::Day D(const char* date) { return *ledger::ParseDate(date); }

// An instant given as a time in England in summer (BST = UTC+1).
std::int64_t Bst(const char* date, int hour, int minute) {
  return (static_cast<std::int64_t>(D(date)) * 86400 + (hour - 1) * 3600 + minute * 60) * 1'000'000;
}

// p1's academic-year-to-date figures as of `as_of`, from the attendance
// read model fed by the ledger (restored, caught up, then live).
v1::AttendanceFigures FiguresAsOf(LedgerFixture& f, const char* as_of) {
  LiveAttendance live;
  AttendanceReadModel model(&live);
  ReadModelHost host(f.ledger.get());
  REQUIRE(host.Add(&model).ok());
  REQUIRE(host.Start().ok());
  REQUIRE(host.WaitFor(AttendanceReadModel::kName, f.ledger->LastPosition(),
                       std::chrono::steady_clock::now() + std::chrono::seconds(60))
              .ok());
  v1::GetPupilAttendanceRequest request;
  request.set_school_id("s1");
  request.set_pupil_id("p1");
  request.set_as_of(as_of);
  const ledger::Day today = ledger::Clock([&f] { return f.now_us.load(); }).Today();
  auto report = live.Read([&](const AttendanceState& state) {
    return projections::QueryPupilAttendance(state, request, today);
  });
  host.Stop();
  REQUIRE(report.ok());
  REQUIRE(report->windows_size() > 0);
  REQUIRE(report->windows(0).window().kind() == v1::ACADEMIC_YEAR_TO_DATE);
  return report->windows(0).figures();
}

void ChangeSettings(LedgerFixture& f, const std::function<void(v1::SchoolSettings&)>& change) {
  v1::SetSchoolSettingsRequest request = Settings("s1");
  change(*request.mutable_settings());
  REQUIRE(f.ledger->SetSchoolSettings(kOfficer, request).ok());
}

TEST_CASE(
    "a settings change recorded at 00:30 BST on day D applies to figures as of D, "
    "not as of D-1",
    "[asof][settings][clock]") {
  LedgerFixture f(1);
  // p1 at exactly 90%: 18 of 20 sessions over ten school days in September.
  v1::RecordMarksRequest marks;
  marks.set_school_id("s1");
  int n = 0;
  for (const char* date : {"2025-09-08", "2025-09-09", "2025-09-10", "2025-09-11", "2025-09-12",
                           "2025-09-15", "2025-09-16", "2025-09-17", "2025-09-18", "2025-09-22"}) {
    *marks.add_marks() = MakeMark("p1", date, v1::AM, n++ < 2 ? "O" : "/");
    *marks.add_marks() = MakeMark("p1", date, v1::PM, "\\");
  }
  REQUIRE(f.ledger->RecordMarks(kTeacher, marks).ok());

  // D = Monday 2025-10-20. 00:30 BST is 23:30 UTC on the 19th: a "today"
  // taken from UTC would put the change on D-1.
  f.now_us = Bst("2025-10-20", 0, 30);
  REQUIRE(ledger::SchoolLocalDay(f.now_us) == D("2025-10-20"));

  const v1::AttendanceFigures before = FiguresAsOf(f, "2025-10-19");
  REQUIRE(before.possible_sessions() == 20);
  REQUIRE(before.attended_sessions() == 18);
  REQUIRE(before.persistent_absence());  // inclusive by default: 90% is PA

  SECTION("persistent_absence_exclusive") {
    ChangeSettings(f, [](v1::SchoolSettings& s) { s.set_persistent_absence_exclusive(true); });
    const v1::AttendanceFigures on_d = FiguresAsOf(f, "2025-10-20");
    const v1::AttendanceFigures on_d_minus_1 = FiguresAsOf(f, "2025-10-19");
    CHECK(on_d.possible_sessions() == 20);
    CHECK(on_d.attended_sessions() == 18);
    CHECK_FALSE(on_d.persistent_absence());  // new policy: 90% is not below 90%
    CHECK(on_d_minus_1.persistent_absence());
  }
  SECTION("min_possible_sessions") {
    ChangeSettings(f, [](v1::SchoolSettings& s) { s.set_min_possible_sessions(21); });
    CHECK_FALSE(FiguresAsOf(f, "2025-10-20").persistent_absence());  // 20 < 21 possible
    CHECK(FiguresAsOf(f, "2025-10-19").persistent_absence());
  }
  SECTION("after a reopen, from the stored events") {
    ChangeSettings(f, [](v1::SchoolSettings& s) { s.set_persistent_absence_exclusive(true); });
    f.Reopen();
    CHECK_FALSE(FiguresAsOf(f, "2025-10-20").persistent_absence());
    CHECK(FiguresAsOf(f, "2025-10-19").persistent_absence());
  }
}

// A summer-school fortnight in academic year 2024 around the cut-over:
// Friday 2024-08-16 is the last legacy day, Monday 2024-08-19 the first of
// the 2024 code set.
void SetUpSummer2024(LedgerFixture& f) {
  v1::SetSchoolCalendarRequest calendar;
  calendar.set_school_id("s1");
  calendar.mutable_calendar()->set_academic_year(2024);
  auto* term = calendar.mutable_calendar()->add_terms();
  term->set_name("Summer school");
  auto* half = term->add_half_terms();
  half->set_name("Summer school");
  half->set_first_day("2024-08-12");
  half->set_last_day("2024-08-23");
  REQUIRE(f.ledger->SetSchoolCalendar(kOfficer, calendar).ok());
  REQUIRE(f.ledger->EnrolPupil(kOfficer, Enrol("s1", "p1", "2024-08-01")).ok());
}

absl::Status Record(LedgerFixture& f, const char* date, v1::Session session, const char* code) {
  v1::RecordMarksRequest request;
  request.set_school_id("s1");
  *request.add_marks() = MakeMark("p1", date, session, code);
  const ledger::Position before = f.ledger->LastPosition();
  absl::Status status = f.ledger->RecordMarks(kTeacher, request).status();
  if (!status.ok()) CHECK(f.ledger->LastPosition() == before);  // wrote nothing
  return status;
}

absl::Status Amend(LedgerFixture& f, const char* date, v1::Session session, const char* from,
                   const char* to) {
  v1::AmendMarkRequest request;
  request.set_school_id("s1");
  request.set_pupil_id("p1");
  request.set_date(date);
  request.set_session(session);
  request.set_expected_code(from);
  request.set_amended_code(to);
  request.set_reason("letter received");
  return f.ledger->AmendMark(kOfficer, request).status();
}

TEST_CASE("the 2024 code set starts on exactly 2024-08-19 in the ledger's validation",
          "[asof][codes][validation]") {
  LedgerFixture f(0);
  SetUpSummer2024(f);
  f.now_us = Bst("2024-08-19", 10, 0);  // the day itself, both registers open

  absl::Status c1_friday = Record(f, "2024-08-16", v1::AM, "C1");
  CHECK(c1_friday.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(c1_friday.message()),
             Contains("\"C1\"") && Contains("2024-08-16") && Contains("valid from 2024-08-19"));
  CHECK(Record(f, "2024-08-16", v1::AM, "H").ok());  // legacy holiday code, last day

  CHECK(Record(f, "2024-08-19", v1::AM, "C1").ok());
  absl::Status h_monday = Record(f, "2024-08-19", v1::PM, "H");
  CHECK(h_monday.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(h_monday.message()),
             Contains("\"H\"") && Contains("removed from the code set on 2024-08-19"));

  // Amendments are checked against the session's date the same way.
  CHECK(Amend(f, "2024-08-16", v1::AM, "H", "J1").code() == absl::StatusCode::kInvalidArgument);
  CHECK(Amend(f, "2024-08-19", v1::AM, "C1", "J1").ok());
}

}  // namespace
}  // namespace attendance::testing
