// Seed 004's table of attendance % against days and sessions missed in a
// 190-day (380-session) year, reproduced through the projection.
#include <catch2/catch.hpp>
#include <cmath>

#include "event_builders.h"
#include "projections/attendance_queries.h"
#include "projections/attendance_state.h"

namespace attendance::projections {
namespace {

using testing::D;

struct SeedRow {
  int percent;
  int days_missed;      // as printed
  int sessions_missed;  // as printed
  const char* category;
};

// /work/shared/seeds/004_fa691897653e9453.txt, "Attendance% Days and Sessions Missed".
constexpr SeedRow kSeed004[] = {
    {100, 0, 0, "Green"},
    {99, 2, 4, "Green"},
    {98, 4, 8, "Green"},
    {97, 6, 12, "Amber"},
    {96, 7, 14, "Amber"},
    {95, 9, 18, "Amber"},
    {94, 11, 22, "Amber"},
    {93, 13, 26, "Amber"},
    {92, 15, 30, "Amber"},
    {91, 17, 34, "Amber"},
    {90, 19, 38, "Amber (Persistent Absence)"},
    {85, 29, 58, "Red"},
    {80, 38, 76, "Red"},
    {75, 48, 96, "Red"},
    {50, 95, 190, "Severely Absent"},
};

// Days missed at `percent` in a 190-day year, rounded half up, in integers:
// 190 * (100 - p) / 100 = 19 * (100 - p) / 10.
int DaysMissedRoundedHalfUp(int percent) { return (19 * (100 - percent) * 2 + 10) / 20; }

SCENARIO("seed 004's table of attendance against days missed in a 190-day year",
         "[projections][scenario][seed004]") {
  GIVEN("a 190-school-day year and one pupil per row who missed the printed sessions") {
    testing::EventLog log;
    const v1::SchoolCalendarSet set = testing::StandardCalendar(2025);
    ledger::SchoolCalendar calendar;
    calendar.Set(set);
    std::vector<Day> days;
    for (Day d = D("2025-09-01"); days.size() < 190; ++d) {
      if (calendar.IsSchoolDay(d)) days.push_back(d);
    }
    log.Calendar(set, D("2025-08-01"));
    for (const SeedRow& row : kSeed004) {
      const std::string id = "p" + std::to_string(row.percent);
      log.Enrol(testing::MakePupil(id, 9), days.front(), D("2025-08-20"));
      for (int s = 0; s < 380; ++s) {
        const bool absent = s < row.sessions_missed;
        log.Mark(id, days[static_cast<std::size_t>(s / 2)], s % 2 == 0 ? v1::AM : v1::PM,
                 absent ? "O" : (s % 2 == 0 ? "/" : "\\"));
      }
    }
    AttendanceState state;
    for (const v1::EventEnvelope& e : log.events()) state.Apply(e);

    auto year_figures = [&](const std::string& id) {
      v1::GetPupilAttendanceRequest req;
      req.set_school_id("school-1");
      req.set_pupil_id(id);
      absl::StatusOr<v1::PupilAttendance> r = QueryPupilAttendance(state, req, days.back());
      REQUIRE(r.ok());
      REQUIRE(r->windows(0).window().kind() == v1::ACADEMIC_YEAR_TO_DATE);
      return r->windows(0).figures();
    };

    WHEN("each row's pupil is folded and its year-to-date figures read back") {
      THEN("the printed sessions are twice the printed days, and give the row's % when rounded") {
        for (const SeedRow& row : kSeed004) {
          INFO(row.percent << "%");
          const v1::AttendanceFigures f = year_figures("p" + std::to_string(row.percent));
          CHECK(f.possible_sessions() == 380);
          CHECK(row.sessions_missed == 2 * row.days_missed);
          CHECK(f.unauthorised_absence() == static_cast<std::uint32_t>(row.sessions_missed));
          CHECK(std::lround(f.attendance_percent()) == row.percent);
        }
      }
      THEN("PA and SA follow the DfE (inclusive) definitions the table's labels use") {
        for (const SeedRow& row : kSeed004) {
          INFO(row.percent << "% " << row.category);
          const v1::AttendanceFigures f = year_figures("p" + std::to_string(row.percent));
          // "90% ... Amber (Persistent Absence)": exactly 90.0% is PA under
          // the DfE. The same table's legend says "Red = below 90%
          // (Persistent Absence)", and the seed's Wave 3 is "< 90": the seed
          // contradicts itself at 90.0%; a school that means "below" sets
          // persistent_absence_exclusive.
          CHECK(f.persistent_absence() == (row.percent <= 90));
          // "50% and below": inclusive, as the DfE.
          CHECK(f.severe_absence() == (row.percent <= 50));
        }
      }
    }
    WHEN("the days missed are computed from the percentage") {
      THEN("they match the printed days except where the seed's own rounding is inconsistent") {
        for (const SeedRow& row : kSeed004) {
          INFO(row.percent << "%");
          const int computed = DaysMissedRoundedHalfUp(row.percent);
          if (row.percent == 96) {
            // 4% of 190 days is 7.6: the seed prints 7 (rounded down) while
            // 98% -> 3.8 is printed 4 (rounded up). Rounded, it is 8. Both 7
            // and 8 days read back as 96% (96.3% and 95.8%), so the code is
            // not bent to match either.
            CHECK(computed == 8);
            CHECK(row.days_missed == 7);
          } else if (row.percent == 95) {
            // 5% of 190 is 9.5: printed 9, while 85% -> 28.5 and 75% -> 47.5
            // are printed 29 and 48 (rounded up). Half up gives 10.
            CHECK(computed == 10);
            CHECK(row.days_missed == 9);
          } else {
            CHECK(computed == row.days_missed);
          }
        }
      }
    }
    WHEN("the school uses seed 004's own rules: PA below 90%, SA at 50% and below") {
      v1::SchoolSettings settings;
      settings.set_persistent_absence_exclusive(true);
      log.Settings(settings, D("2025-08-02"));
      AttendanceState exclusive;
      for (const v1::EventEnvelope& e : log.events()) exclusive.Apply(e);
      THEN("90% is no longer PA, and 50% is still SA") {
        v1::GetPupilAttendanceRequest req;
        req.set_school_id("school-1");
        for (int pct : {90, 50}) {
          req.set_pupil_id("p" + std::to_string(pct));
          auto r = QueryPupilAttendance(exclusive, req, days.back());
          REQUIRE(r.ok());
          CHECK(r->windows(0).figures().persistent_absence() == (pct == 50));
          // Seed 004 wants "< 90" for PA but "50% and below" for SA: two
          // settings, one per threshold.
          CHECK(r->windows(0).figures().severe_absence() == (pct == 50));
        }
      }
    }
  }
}

}  // namespace
}  // namespace attendance::projections
