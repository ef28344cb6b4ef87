// "As of" over imported history: a school set up in August imports its
// September register in October, amendments dated in the past. The figures
// and the register as of a moment between a mark's taking and its
// amendment show the original code; the audit trail shows the amendment
// with the source's reason, person and time, and says it was imported.
#include <catch2/catch.hpp>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "audit_fixture.h"
#include "projections/attendance_queries.h"
#include "projections/attendance_state.h"

namespace attendance::testing {
namespace {

std::int64_t LocalUs(int y, int m, int d, int hh, int mm) {
  absl::TimeZone london;
  REQUIRE(absl::LoadTimeZone("Europe/London", &london));
  return absl::ToUnixMicros(absl::FromCivil(absl::CivilMinute(y, m, d, hh, mm), london));
}

constexpr char kSchool[] = "s9";
constexpr char kSource[] = "SIMS export 2025-10-01";

// s9 set up on 2025-08-20 (settings, calendar, p1 and p2 on roll from
// 2025-09-01); on 2025-10-09 its week of 8-12 September imported from SIMS:
// everyone present but p1 on Monday morning, N taken at 09:05 and amended to
// I on Wednesday at 11:30, and p2 on Tuesday afternoon, N amended to O on
// the 15th and to M on the 16th. Returns the import's last position.
ledger::Position ImportWeek(AuditFixture& f) {
  f.now_us = LocalUs(2025, 8, 20, 12, 0);
  REQUIRE(f.ledger->SetSchoolSettings(kOfficer, Settings(kSchool)).ok());
  REQUIRE(f.ledger->SetSchoolCalendar(kOfficer, Calendar2025(kSchool)).ok());
  for (const char* pupil : {"p1", "p2"}) {
    REQUIRE(f.ledger->EnrolPupil(kOfficer, Enrol(kSchool, pupil)).ok());
  }
  f.now_us = LocalUs(2025, 10, 9, 10, 0);
  v1::ImportHistoryRequest request;
  request.set_school_id(kSchool);
  request.set_request_id("import-sept");
  request.set_source(kSource);
  for (int day = 8; day <= 12; ++day) {
    const std::string date = "2025-09-" + std::string(day < 10 ? "0" : "") + std::to_string(day);
    for (const char* pupil : {"p1", "p2"}) {
      for (v1::Session session : {v1::AM, v1::PM}) {
        v1::ImportedMark* mark = request.add_marks();
        mark->set_pupil_id(pupil);
        mark->set_date(date);
        mark->set_session(session);
        mark->set_code(session == v1::AM ? "/" : "\\");
        mark->set_taken_at_us(session == v1::AM ? LocalUs(2025, 9, day, 9, 5)
                                                : LocalUs(2025, 9, day, 13, 15));
        mark->mutable_taken_by()->set_name("Miss C. Patel");
        mark->mutable_taken_by()->set_role("teacher");
        auto amend = [&](const char* code, std::int64_t at, const char* reason) {
          v1::ImportedAmendment* a = mark->add_amendments();
          a->set_amended_code(code);
          a->set_amended_at_us(at);
          a->set_reason(reason);
          a->mutable_amended_by()->set_name("Mrs A. Office");
          a->mutable_amended_by()->set_role("office");
        };
        if (day == 8 && session == v1::AM && std::string(pupil) == "p1") {
          mark->set_code("N");
          amend("I", LocalUs(2025, 9, 10, 11, 30), "Parent confirmed illness by phone");
        }
        if (day == 9 && session == v1::PM && std::string(pupil) == "p2") {
          mark->set_code("N");
          amend("O", LocalUs(2025, 9, 15, 10, 0), "No reason given after two calls");
          amend("M", LocalUs(2025, 9, 16, 8, 40), "Appointment card brought in");
        }
      }
    }
  }
  auto imported = f.ledger->ImportHistory(kOfficer, request);
  REQUIRE(imported.ok());
  CHECK(imported->marks_written() == 20);
  CHECK(imported->amendments_written() == 3);
  return imported->last_position();
}

v1::AttendanceFigures YearToDate(const ledger::Ledger& ledger, const std::string& pupil,
                                 const std::string& as_of) {
  projections::AttendanceState state;
  REQUIRE(ledger
              .ForEachEvent(1,
                            [&](const v1::EventEnvelope& e) {
                              state.Apply(e);
                              return true;
                            })
              .ok());
  v1::GetPupilAttendanceRequest request;
  request.set_school_id(kSchool);
  request.set_pupil_id(pupil);
  request.set_as_of(as_of);
  auto report = projections::QueryPupilAttendance(state, request, *ledger::ParseDate("2025-10-09"));
  REQUIRE(report.ok());
  return report->windows(0).figures();
}

TEST_CASE("figures as of a past date count imported history from the source's times",
          "[audit][import]") {
  AuditFixture f(0);
  ImportWeek(f);
  // Tuesday evening: p1's Monday was still N.
  const v1::AttendanceFigures tuesday = YearToDate(*f.ledger, "p1", "2025-09-09");
  CHECK(tuesday.possible_sessions() == 4);
  CHECK(tuesday.unauthorised_absence() == 1);
  CHECK(tuesday.authorised_absence() == 0);
  // Friday: amended to I on Wednesday.
  const v1::AttendanceFigures friday = YearToDate(*f.ledger, "p1", "2025-09-12");
  CHECK(friday.possible_sessions() == 10);
  CHECK(friday.unauthorised_absence() == 0);
  CHECK(friday.authorised_absence() == 1);
  // p2 on the 15th: O; on the 16th: M.
  CHECK(YearToDate(*f.ledger, "p2", "2025-09-15").unauthorised_absence() == 1);
  CHECK(YearToDate(*f.ledger, "p2", "2025-09-16").authorised_absence() == 1);
  CHECK(YearToDate(*f.ledger, "p2", "2025-09-16").unauthorised_absence() == 0);
  // Before the week began nothing had been taken.
  CHECK(YearToDate(*f.ledger, "p1", "2025-09-07").possible_sessions() == 0);
}

TEST_CASE("the register as of a past moment shows imported history as it stood",
          "[audit][import]") {
  AuditFixture f(0);
  const ledger::Position last = ImportWeek(f);
  auto register_at = [&](std::int64_t as_of_us) {
    v1::GetRegisterAsOfRequest request;
    request.set_school_id(kSchool);
    request.set_date("2025-09-08");
    request.set_session(v1::AM);
    request.set_as_of_us(as_of_us);
    request.set_min_position(last);
    v1::RegisterAsOf reply;
    auto context = f.As("admin");
    REQUIRE(f.stub->GetRegisterAsOf(context.get(), request, &reply).ok());
    REQUIRE(reply.lines_size() == 2);
    REQUIRE(reply.lines(0).pupil_id() == "p1");
    return reply.lines(0);
  };
  // Before registration: no mark yet, both entries still to come.
  const v1::RegisterLine before = register_at(LocalUs(2025, 9, 8, 8, 0));
  CHECK(before.code().empty());
  CHECK(before.changed_since_size() == 2);
  // Between the taking and the amendment: the original N.
  const v1::RegisterLine between = register_at(LocalUs(2025, 9, 9, 12, 0));
  CHECK(between.code() == "N");
  CHECK(between.as_of_entry().at_us() == LocalUs(2025, 9, 8, 9, 5));
  CHECK(between.as_of_entry().by().name() == "Miss C. Patel");
  CHECK(between.as_of_entry().imported_from() == kSource);
  REQUIRE(between.changed_since_size() == 1);
  CHECK(between.changed_since(0).code() == "I");
  CHECK(between.changed_since(0).at_us() == LocalUs(2025, 9, 10, 11, 30));
  // After it, and now.
  CHECK(register_at(LocalUs(2025, 9, 10, 11, 30)).code() == "I");
  CHECK(register_at(0).code() == "I");
}

TEST_CASE("the audit trail shows imported amendments with the source's reason, person and time",
          "[audit][import]") {
  AuditFixture f(0);
  const ledger::Position last = ImportWeek(f);
  const std::int64_t imported_at = f.now_us.load();

  v1::GetMarkHistoryRequest request;
  request.set_school_id(kSchool);
  request.set_pupil_id("p2");
  request.set_date("2025-09-09");
  request.set_session(v1::PM);
  request.set_min_position(last);
  v1::MarkHistory history;
  auto context = f.As("admin");
  REQUIRE(f.stub->GetMarkHistory(context.get(), request, &history).ok());
  REQUIRE(history.entries_size() == 3);
  const v1::MarkHistoryEntry& taken = history.entries(0);
  CHECK(taken.code() == "N");
  CHECK(taken.at_us() == LocalUs(2025, 9, 9, 13, 15));
  CHECK(taken.imported_from() == kSource);
  CHECK(taken.recorded_at_us() == imported_at);
  CHECK(taken.imported_by().name() == kOfficer.name);
  const v1::MarkHistoryEntry& second = history.entries(2);
  CHECK(second.amendment());
  CHECK(second.original_code() == "O");
  CHECK(second.code() == "M");
  CHECK(second.reason() == "Appointment card brought in");
  CHECK(second.by().name() == "Mrs A. Office");
  CHECK(second.by().role() == "office");
  CHECK(second.at_us() == LocalUs(2025, 9, 16, 8, 40));
  CHECK(second.imported_from() == kSource);

  // Replayed by the source's amendment times: the 15th to the 16th holds
  // only p2's first amendment, though all three were recorded on 10-09.
  v1::ReplayAmendmentsRequest replay;
  replay.set_school_id(kSchool);
  replay.set_range(v1::BY_AMENDED_AT);
  replay.set_from_us(LocalUs(2025, 9, 15, 0, 0));
  replay.set_to_us(LocalUs(2025, 9, 16, 0, 0));
  replay.set_min_position(last);
  const std::vector<v1::Amendment> amendments = f.Replay(replay, nullptr, "admin");
  REQUIRE(amendments.size() == 1);
  CHECK(amendments[0].pupil_id() == "p2");
  CHECK(amendments[0].amended_code() == "O");
  CHECK(amendments[0].reason() == "No reason given after two calls");
  CHECK(amendments[0].amended_by().name() == "Mrs A. Office");
  CHECK(amendments[0].amended_at_us() == LocalUs(2025, 9, 15, 10, 0));
  CHECK(amendments[0].imported_from() == kSource);
}

}  // namespace
}  // namespace attendance::testing
