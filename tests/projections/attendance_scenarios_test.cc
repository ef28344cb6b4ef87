// Scenario tests for the attendance projection: the worked example of
// ../shared/domain.md §3 and the lifecycle rules of issue 3 (amendments,
// leavers, joiners, as-of dates, closures, rolling school weeks).
#include <catch2/catch.hpp>

#include "event_builders.h"
#include "projections/attendance_queries.h"
#include "projections/attendance_state.h"

namespace attendance::projections {
namespace {

using testing::D;
using testing::EventLog;

AttendanceState Fold(const EventLog& log) {
  AttendanceState state;
  for (const v1::EventEnvelope& e : log.events()) state.Apply(e);
  return state;
}

// The first `n` school days of `calendar` from `from` on.
std::vector<Day> SchoolDays(const v1::SchoolCalendarSet& set, Day from, int n) {
  ledger::SchoolCalendar calendar;
  calendar.Set(set);
  std::vector<Day> days;
  for (Day d = from; static_cast<int>(days.size()) < n && d < from + 800; ++d) {
    if (calendar.IsSchoolDay(d)) days.push_back(d);
  }
  return days;
}

const v1::AttendanceFigures& WindowOf(const v1::PupilAttendance& report, v1::WindowKind kind,
                                      std::uint32_t n = 0) {
  for (const v1::WindowFigures& w : report.windows()) {
    if (w.window().kind() == kind &&
        (n == 0 || w.window().weeks() == n || w.window().years_back() == n)) {
      return w.figures();
    }
  }
  FAIL("no window " << v1::WindowKind_Name(kind) << " " << n);
  return v1::AttendanceFigures::default_instance();
}

v1::PupilAttendance Report(const AttendanceState& state, const std::string& pupil, Day as_of) {
  v1::GetPupilAttendanceRequest req;
  req.set_school_id("school-1");
  req.set_pupil_id(pupil);
  req.set_as_of(ledger::FormatDate(as_of));
  absl::StatusOr<v1::PupilAttendance> r = QueryPupilAttendance(state, req, as_of);
  REQUIRE(r.ok());
  return *r;
}

std::uint32_t CodeCount(const v1::AttendanceFigures& f, const std::string& code) {
  for (const v1::CodeCount& c : f.code_counts()) {
    if (c.code() == code) return c.sessions();
  }
  return 0;
}

SCENARIO("the worked example of domain.md §3: 90.0% exactly", "[projections][scenario]") {
  GIVEN("one half-term of 73 school days and 146 register entries as in §3") {
    const Day start = D("2025-09-01");
    v1::SchoolCalendarSet cal = testing::MakeCalendar(
        2025, {{"Autumn", "Autumn 1", start, start + 7 * 15}});  // 15 weeks: room for 73 days
    const std::vector<Day> days = SchoolDays(cal, start, 73);
    REQUIRE(days.size() == 73);
    EventLog log;
    log.Calendar(cal, start - 10);
    log.Enrol(testing::MakePupil("p1", 7), start, start - 5);
    // 146 entries in the counts of §3, in register order.
    std::vector<std::string> codes;
    auto put = [&](const std::string& code, int n) { codes.insert(codes.end(), n, code); };
    put("L", 4), put("V", 2), put("I", 6), put("M", 2), put("G", 3), put("U", 2), put("O", 1),
        put("#", 4), put("Y1", 2);
    const int presents = 146 - static_cast<int>(codes.size());
    REQUIRE(presents == 120);
    for (int i = 0; i < 146; ++i) {
      const v1::Session session = i % 2 == 0 ? v1::AM : v1::PM;
      const std::string code = i < presents ? (i % 2 == 0 ? "/" : "\\") : codes[i - presents];
      log.Mark("p1", days[i / 2], session, code);
    }
    const Day end = days.back();

    WHEN("the school uses the DfE's inclusive thresholds (the default)") {
      const AttendanceState state = Fold(log);
      const v1::AttendanceFigures f = WindowOf(Report(state, "p1", end), v1::CURRENT_HALF_TERM);
      THEN("possible 140, attended 126, 90.0%, and the pupil is persistently absent") {
        CHECK(f.possible_sessions() == 140);
        CHECK(f.attended_sessions() == 126);
        CHECK(f.authorised_absence() == 8);
        CHECK(f.unauthorised_absence() == 6);
        CHECK(f.late_before_close() == 4);
        CHECK(f.late_after_close() == 2);
        CHECK(CodeCount(f, "#") == 4);
        CHECK(CodeCount(f, "Y1") == 2);
        CHECK(CodeCount(f, "/") == 60);
        CHECK(f.attendance_percent() == Approx(90.0));
        CHECK(f.absence_percent() == Approx(10.0));
        CHECK(f.persistent_absence());
        CHECK_FALSE(f.severe_absence());
      }
    }
    WHEN("the school's policy says PA is attendance strictly below 90% (seeds 000, 004)") {
      v1::SchoolSettings settings;
      settings.set_persistent_absence_exclusive(true);
      log.Settings(settings, start - 9);
      const AttendanceState state = Fold(log);
      const v1::AttendanceFigures f = WindowOf(Report(state, "p1", end), v1::CURRENT_HALF_TERM);
      THEN("the same 90.0% is not persistent absence") {
        CHECK(f.possible_sessions() == 140);
        CHECK_FALSE(f.persistent_absence());
      }
    }
    WHEN("the school applies PA only from 141 possible sessions (seed 001 style minimum)") {
      v1::SchoolSettings settings;
      settings.set_min_possible_sessions(141);
      log.Settings(settings, start - 9);
      const AttendanceState state = Fold(log);
      THEN("140 possible sessions are too few to flag") {
        CHECK_FALSE(WindowOf(Report(state, "p1", end), v1::CURRENT_HALF_TERM).persistent_absence());
      }
    }
  }
}

SCENARIO("an amendment replaces the mark it amends, from the day it was made",
         "[projections][scenario]") {
  GIVEN("a pupil marked N on Monday morning and present on Monday afternoon") {
    const Day monday = D("2025-09-08");
    EventLog log;
    log.Calendar(testing::StandardCalendar(2025), D("2025-08-01"));
    log.Enrol(testing::MakePupil("p1", 7), D("2025-09-01"), D("2025-08-20"));
    log.Mark("p1", monday, v1::AM, "N");
    log.Mark("p1", monday, v1::PM, "\\");

    WHEN("the N is amended to I on Wednesday after the parent phones") {
      log.Amend("p1", monday, v1::AM, "N", "I", monday + 2);
      const AttendanceState state = Fold(log);
      THEN("from Wednesday the session is authorised absence, not unauthorised") {
        const v1::AttendanceFigures f =
            WindowOf(Report(state, "p1", monday + 2), v1::ACADEMIC_YEAR_TO_DATE);
        CHECK(f.possible_sessions() == 2);
        CHECK(f.authorised_absence() == 1);
        CHECK(f.unauthorised_absence() == 0);
        CHECK(CodeCount(f, "N") == 0);
      }
      THEN("as of Tuesday the figures still show the N, as they stood then") {
        const v1::AttendanceFigures f =
            WindowOf(Report(state, "p1", monday + 1), v1::ACADEMIC_YEAR_TO_DATE);
        CHECK(f.unauthorised_absence() == 1);
        CHECK(CodeCount(f, "N") == 1);
      }
    }
    WHEN("nothing is amended") {
      const AttendanceState state = Fold(log);
      THEN("the N counts as unauthorised absence") {
        CHECK(WindowOf(Report(state, "p1", monday), v1::ACADEMIC_YEAR_TO_DATE)
                  .unauthorised_absence() == 1);
      }
    }
  }
}

SCENARIO("a report for a past date does not move when later marks arrive",
         "[projections][scenario][as_of]") {
  GIVEN("a pupil present every session of Autumn 1 2025") {
    EventLog log;
    const v1::SchoolCalendarSet cal = testing::StandardCalendar(2025);
    log.Calendar(cal, D("2025-08-01"));
    log.Enrol(testing::MakePupil("p1", 7), D("2025-09-01"), D("2025-08-20"));
    const std::vector<Day> autumn1 = SchoolDays(cal, D("2025-09-01"), 40);
    for (Day d : autumn1) {
      log.Mark("p1", d, v1::AM, "/");
      log.Mark("p1", d, v1::PM, "\\");
    }
    const Day end_autumn1 = D("2025-10-24");
    const AttendanceState before = Fold(log);
    const v1::PupilAttendance then = Report(before, "p1", end_autumn1);

    WHEN("Autumn 2 marks arrive, and a forgotten Autumn 1 mark is entered late as O") {
      for (Day d : SchoolDays(cal, D("2025-11-03"), 10)) log.Mark("p1", d, v1::AM, "G");
      log.Amend("p1", autumn1[3], v1::AM, "/", "O", D("2025-11-20"));
      const AttendanceState after = Fold(log);
      THEN("the figures as of the end of Autumn 1 are exactly what they were") {
        const v1::PupilAttendance again = Report(after, "p1", end_autumn1);
        CHECK(again.windows_size() == then.windows_size());
        for (int i = 0; i < then.windows_size(); ++i) {
          CHECK(again.windows(i).SerializeAsString() == then.windows(i).SerializeAsString());
        }
        CHECK(WindowOf(again, v1::CURRENT_HALF_TERM).possible_sessions() == 80);
        CHECK(WindowOf(again, v1::CURRENT_HALF_TERM).attendance_percent() == Approx(100.0));
      }
      THEN("today's figures include the late mark and the new marks") {
        const v1::PupilAttendance now = Report(after, "p1", D("2025-11-21"));
        const v1::AttendanceFigures& ytd = WindowOf(now, v1::ACADEMIC_YEAR_TO_DATE);
        CHECK(ytd.possible_sessions() == 90);
        CHECK(ytd.unauthorised_absence() == 11);
        CHECK(WindowOf(now, v1::CURRENT_HALF_TERM).possible_sessions() == 10);
        CHECK(WindowOf(now, v1::CURRENT_TERM).possible_sessions() == 90);
      }
    }
  }
}

SCENARIO("joiners count from their first session, leavers keep their history",
         "[projections][scenario][cohort]") {
  GIVEN("a school of three Year 7 pupils in 2025-26") {
    EventLog log;
    const v1::SchoolCalendarSet cal = testing::StandardCalendar(2025);
    log.Calendar(cal, D("2025-08-01"));
    log.Enrol(testing::MakePupil("stays", 7), D("2025-09-01"), D("2025-08-20"));
    log.Enrol(testing::MakePupil("leaves", 7, v1::MALE), D("2025-09-01"), D("2025-08-20"));
    const std::vector<Day> days = SchoolDays(cal, D("2025-09-01"), 30);
    const Day join_day = days[20];
    for (Day d : days) {
      if (d == join_day) log.Enrol(testing::MakePupil("joins", 7), join_day, join_day);
      log.Mark("stays", d, v1::AM, "/");
      log.Mark("stays", d, v1::PM, "\\");
      if (d <= days[9]) {
        log.Mark("leaves", d, v1::AM, "O");
        log.Mark("leaves", d, v1::PM, "O");
      }
      if (d >= join_day) {
        log.Mark("joins", d, v1::AM, "/");
        log.Mark("joins", d, v1::PM, "I");
      }
    }
    log.Leave("leaves", days[9], days[10]);
    const AttendanceState state = Fold(log);

    WHEN("the whole-school figures are asked for after the leaver left") {
      v1::GetCohortAttendanceRequest req;
      req.set_school_id("school-1");
      req.set_as_of(ledger::FormatDate(days.back()));
      const auto cohorts = QueryCohorts(state, req, days.back());
      REQUIRE(cohorts.ok());
      THEN("the leaver is out of the current cohort and the joiner counts from joining") {
        CHECK(cohorts->whole_school().pupils() == 2);
        CHECK(cohorts->whole_school().figures().possible_sessions() == 60 + 20);
        CHECK(cohorts->whole_school().figures().attended_sessions() == 60 + 10);
        CHECK(cohorts->whole_school().persistent_absence_pupils() == 1);  // the joiner: 50%
        CHECK(cohorts->whole_school().severe_absence_pupils() == 1);
        CHECK(cohorts->whole_school().persistent_absence_rate() == Approx(50.0));
      }
      THEN("the leaver's own history is still there") {
        const v1::PupilAttendance r = Report(state, "leaves", days.back());
        CHECK_FALSE(r.on_roll());
        CHECK(WindowOf(r, v1::ACADEMIC_YEAR_TO_DATE).possible_sessions() == 20);
        CHECK(WindowOf(r, v1::ACADEMIC_YEAR_TO_DATE).severe_absence());
      }
    }
    WHEN("the whole-school figures are asked for as of before the leaver left") {
      v1::GetCohortAttendanceRequest req;
      req.set_school_id("school-1");
      req.set_as_of(ledger::FormatDate(days[5]));
      const auto cohorts = QueryCohorts(state, req, days.back());
      REQUIRE(cohorts.ok());
      THEN("the leaver is in it and the joiner is not yet known") {
        CHECK(cohorts->whole_school().pupils() == 2);
        CHECK(cohorts->whole_school().figures().possible_sessions() == 24);
        CHECK(cohorts->whole_school().figures().unauthorised_absence() == 12);
      }
    }
    WHEN("the figures are grouped by sex") {
      v1::GetCohortAttendanceRequest req;
      req.set_school_id("school-1");
      req.add_group_by(v1::SEX);
      req.set_as_of(ledger::FormatDate(days[5]));
      const auto cohorts = QueryCohorts(state, req, days.back());
      REQUIRE(cohorts.ok());
      THEN("there is a row per sex, summed then divided, and a boys-vs-girls gap") {
        REQUIRE(cohorts->rows_size() == 2);
        CHECK(cohorts->rows(0).key(0) == "FEMALE");
        CHECK(cohorts->rows(0).figures().attendance_percent() == Approx(100.0));
        CHECK(cohorts->rows(1).key(0) == "MALE");
        CHECK(cohorts->rows(1).figures().attendance_percent() == Approx(0.0));
        REQUIRE(cohorts->gaps_size() == 1);
        CHECK(cohorts->gaps(0).name() == "boys vs girls");
        CHECK(cohorts->gaps(0).attendance_gap_points() == Approx(-100.0));
        CHECK(cohorts->gaps(0).persistent_absence_rate_gap_points() == Approx(100.0));
      }
    }
  }
}

SCENARIO("school weeks skip holidays and closures", "[projections][scenario][windows]") {
  GIVEN("a calendar with a half-term break and an INSET closure on a Monday") {
    const Day inset = D("2025-11-03");  // first Monday of Autumn 2
    const v1::SchoolCalendarSet cal = testing::StandardCalendar(2025, {inset});
    ledger::SchoolCalendar calendar;
    calendar.Set(cal);
    WHEN("the last 4 school weeks are resolved on Wednesday 2025-11-12") {
      const ResolvedWindow w =
          ResolveWindow(calendar, {v1::ROLLING_SCHOOL_WEEKS, 4, 0}, D("2025-11-12"));
      THEN("they are the 2 weeks of Autumn 2 so far and the last 2 of Autumn 1") {
        CHECK(ledger::FormatDate(w.first) == "2025-10-13");
        CHECK(ledger::FormatDate(w.last) == "2025-11-12");
      }
    }
    WHEN("the window is resolved on Tuesday 2025-11-04, after the INSET Monday") {
      const ResolvedWindow w =
          ResolveWindow(calendar, {v1::ROLLING_SCHOOL_WEEKS, 1, 0}, D("2025-11-04"));
      THEN("the current week counts from its first school day") {
        CHECK(ledger::FormatDate(w.first) == "2025-11-04");
      }
    }
    WHEN("the current term is asked for in the Christmas holiday") {
      const ResolvedWindow w = ResolveWindow(calendar, {v1::CURRENT_TERM, 0, 0}, D("2025-12-29"));
      THEN("it is the autumn term just finished") {
        CHECK(w.label == "Autumn 2025-26");
        CHECK(ledger::FormatDate(w.first) == "2025-09-01");
        CHECK(ledger::FormatDate(w.last) == "2025-12-19");
      }
    }
  }
}

TEST_CASE("query errors name the field and value", "[projections]") {
  EventLog log;
  log.Calendar(testing::StandardCalendar(2025), D("2025-08-01"));
  log.Enrol(testing::MakePupil("p1", 7), D("2025-09-01"), D("2025-08-20"));
  const AttendanceState state = Fold(log);
  const Day today = D("2025-10-01");

  v1::GetPupilAttendanceRequest pupil;
  pupil.set_school_id("school-1");
  pupil.set_pupil_id("nobody");
  CHECK(QueryPupilAttendance(state, pupil, today).status().code() == absl::StatusCode::kNotFound);
  pupil.set_pupil_id("p1");
  pupil.set_as_of("2025-13-01");
  auto bad = QueryPupilAttendance(state, pupil, today);
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(bad.status().message()).find("as_of: \"2025-13-01\"") != std::string::npos);
  pupil.set_as_of("2025-08-10");  // before the pupil was enrolled (recorded 2025-08-20)
  CHECK(QueryPupilAttendance(state, pupil, today).status().code() == absl::StatusCode::kNotFound);
  pupil.set_school_id("other");
  pupil.clear_as_of();
  CHECK(QueryPupilAttendance(state, pupil, today).status().code() == absl::StatusCode::kNotFound);

  v1::ListPupilAttendanceRequest list;
  list.set_school_id("school-1");
  list.set_page_size(1001);
  CHECK(QueryPupilList(state, list, today).status().code() == absl::StatusCode::kInvalidArgument);
  list.set_page_size(10);
  list.mutable_window()->set_kind(v1::ROLLING_SCHOOL_WEEKS);
  auto weeks = QueryPupilList(state, list, today);
  CHECK(weeks.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(weeks.status().message()).find("window.weeks: 0") != std::string::npos);
  list.mutable_window()->set_weeks(4);
  v1::CohortFilter* f = list.add_cohort();
  f->set_attribute(v1::DISADVANTAGED);
  f->set_value("yes");
  CHECK(QueryPupilList(state, list, today).status().code() == absl::StatusCode::kInvalidArgument);
  f->set_value("false");
  auto ok = QueryPupilList(state, list, today);
  REQUIRE(ok.ok());
  CHECK(ok->total_size() == 1);

  // A token past the end (or one that would overflow) is refused, not
  // wrapped round to the first page.
  list.set_page_token("18446744073709551610");
  auto past = QueryPupilList(state, list, today);
  CHECK(past.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(past.status().message()), Catch::Contains("page_token"));

  // A huge value is quoted cut short, so the reply stays small.
  pupil.set_school_id("school-1");
  pupil.set_as_of(std::string(20000, '9'));
  auto huge = QueryPupilAttendance(state, pupil, today);
  CHECK(huge.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(huge.status().message().size() < 200);
}

}  // namespace
}  // namespace attendance::projections
