// The attendance projection hosted on the real RocksDB ledger: follow
// commits, checkpoint beside the log, reopen and resume, and end equal to a
// rebuild from position 1 (the style guide's "reopen" and "replay" cases).
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>

#include "ledger/ledger.h"
#include "projections/attendance_queries.h"
#include "projections/event_builders.h"
#include "services/attendance_read_model.h"
#include "services/read_model_host.h"
#include "support/fixtures.h"
#include "support/temp_dir.h"

namespace attendance::projections {
namespace {

using services::AttendanceReadModel;
using services::ReadModelHost;
using testing::D;

// Waits (generously: it returns as soon as the model is there) for the
// attendance read model to reach `position`.
bool WaitFor(const ReadModelHost& host, ledger::Position position) {
  return host
      .WaitFor(AttendanceReadModel::kName, position,
               std::chrono::steady_clock::now() + std::chrono::seconds(60))
      .ok();
}

struct RealLedger {
  explicit RealLedger(const std::string& dir) {
    ledger::LedgerOptions options;
    options.data_dir = dir;
    options.sync = false;
    options.clock = ledger::Clock([this] { return now_us.load(); });
    auto opened = ledger::Ledger::Open(options);
    REQUIRE(opened.ok());
    ledger = std::move(*opened);
  }
  std::atomic<std::int64_t> now_us{testing::NoonUs(D("2025-08-20"))};
  std::unique_ptr<ledger::Ledger> ledger;
};

std::string RebuildFromLog(const ledger::Ledger& ledger) {
  AttendanceState state;
  REQUIRE(ledger
              .ForEachEvent(1,
                            [&](const v1::EventEnvelope& e) {
                              state.Apply(e);
                              return true;
                            })
              .ok());
  return state.Encode();
}

// Records every pupil present for the school days in [from, to], the clock
// set to each day in turn, one batch per day.
void RecordDays(RealLedger& l, Day from, Day to, const std::vector<std::string>& absent_codes) {
  ledger::SchoolCalendar calendar;
  calendar.Set(attendance::testing::Calendar2025("s1").calendar());
  std::size_t n = 0;
  for (Day d = from; d <= to; ++d) {
    if (!calendar.IsSchoolDay(d)) continue;
    l.now_us = testing::NoonUs(d);
    v1::RecordMarksRequest req;
    req.set_school_id("s1");
    req.set_request_id("marks-" + ledger::FormatDate(d));
    for (const char* pupil : {"p1", "p2"}) {
      for (v1::Session s : {v1::AM, v1::PM}) {
        if (calendar.IsClosed(d, s, 7)) continue;
        const std::string code = std::string(pupil) == "p2" && s == v1::AM
                                     ? absent_codes[n++ % absent_codes.size()]
                                     : (s == v1::AM ? "/" : "\\");
        *req.add_marks() = attendance::testing::MakeMark(pupil, ledger::FormatDate(d), s, code);
      }
    }
    auto r = l.ledger->RecordMarks(attendance::testing::kTeacher, req);
    REQUIRE(r.ok());
  }
}

SCENARIO("the projection follows the real ledger and resumes from its checkpoint",
         "[projections][runner][ledger]") {
  GIVEN("a ledger with a school, two pupils and two weeks of marks") {
    attendance::testing::TempDir dir;
    const std::string db = dir.Sub("db");
    ledger::Position first_run_position = 0;
    {
      RealLedger l(db);
      REQUIRE(l.ledger
                  ->SetSchoolSettings(attendance::testing::kOfficer,
                                      attendance::testing::Settings("s1"))
                  .ok());
      REQUIRE(l.ledger
                  ->SetSchoolCalendar(attendance::testing::kOfficer,
                                      attendance::testing::Calendar2025("s1"))
                  .ok());
      REQUIRE(
          l.ledger
              ->EnrolPupil(attendance::testing::kOfficer, attendance::testing::Enrol("s1", "p1"))
              .ok());
      REQUIRE(
          l.ledger
              ->EnrolPupil(attendance::testing::kOfficer, attendance::testing::Enrol("s1", "p2"))
              .ok());
      RecordDays(l, D("2025-09-03"), D("2025-09-12"), {"/", "O"});

      LiveAttendance live;
      AttendanceReadModel model(&live);
      ReadModelHost runner(l.ledger.get());
      REQUIRE(runner.Add(&model).ok());
      REQUIRE(runner.Start().ok());
      CHECK(live.position() == l.ledger->LastPosition());

      WHEN("more marks and an amendment are committed while the runner is running") {
        RecordDays(l, D("2025-09-15"), D("2025-09-17"), {"I"});
        v1::AmendMarkRequest amend;  // p2's first O (Thursday 4th), explained days later
        amend.set_school_id("s1");
        amend.set_request_id("amend-1");
        amend.set_pupil_id("p2");
        amend.set_date("2025-09-04");
        amend.set_session(v1::AM);
        amend.set_amended_code("M");
        amend.set_reason("dentist; letter received");
        amend.set_expected_code("O");
        REQUIRE(l.ledger->AmendMark(attendance::testing::kOfficer, amend).ok());
        REQUIRE(WaitFor(runner, l.ledger->LastPosition()));
        THEN("the projection has them, without anyone asking it to catch up") {
          v1::GetPupilAttendanceRequest req;
          req.set_school_id("s1");
          req.set_pupil_id("p2");
          auto report = live.Read([&](const AttendanceState& s) {
            return QueryPupilAttendance(s, req, D("2025-09-17"));
          });
          REQUIRE(report.ok());
          const v1::AttendanceFigures& ytd = report->windows(0).figures();
          CHECK(ytd.possible_sessions() == 2 * 11);  // 8 + 3 school days
          CHECK(ytd.unauthorised_absence() == 3);    // O on alternate mornings, one amended
          CHECK(ytd.authorised_absence() == 3 + 1);
          req.set_as_of("2025-09-12");  // before the amendment (made on the 17th)
          auto before = live.Read([&](const AttendanceState& s) {
            return QueryPupilAttendance(s, req, D("2025-09-17"));
          });
          REQUIRE(before.ok());
          CHECK(before->windows(0).figures().unauthorised_absence() == 4);
          CHECK(before->windows(0).figures().possible_sessions() == 2 * 8);
          CHECK(live.Read([](const AttendanceState& s) { return s.Encode(); }) ==
                RebuildFromLog(*l.ledger));
        }
      }
      runner.Stop();
      first_run_position = live.position();
    }

    WHEN(
        "the ledger is reopened, more marks arrive while the projection is down, and it restarts") {
      RealLedger l(db);
      auto checkpoint = l.ledger->LoadCheckpoint(AttendanceReadModel::kName);
      REQUIRE(checkpoint.ok());
      CHECK(checkpoint->position == first_run_position);
      RecordDays(l, D("2025-09-22"), D("2025-09-26"), {"N"});

      LiveAttendance live;
      AttendanceReadModel model(&live);
      ReadModelHost runner(l.ledger.get());
      REQUIRE(runner.Add(&model).ok());
      REQUIRE(runner.Start().ok());
      THEN("it catches up from the checkpoint to the state a rebuild from position 1 gives") {
        CHECK(live.position() == l.ledger->LastPosition());
        CHECK(live.Read([](const AttendanceState& s) { return s.Encode(); }) ==
              RebuildFromLog(*l.ledger));
      }
      runner.Stop();
    }
  }
}

}  // namespace
}  // namespace attendance::projections
