// Issue 10, findings 1 and 5 in the queries themselves: a reply's size is
// bounded by the school (and a cap on cohort rows), and every error message
// is valid UTF-8 whatever the request held.
#include <catch2/catch.hpp>

#include "event_builders.h"
#include "projections/attendance_queries.h"
#include "projections/attendance_state.h"

namespace attendance::projections {
namespace {

using testing::D;

AttendanceState SchoolWithClasses(int pupils) {
  testing::EventLog log;
  log.Calendar(testing::StandardCalendar(2025), D("2025-08-01"));
  for (int i = 0; i < pupils; ++i) {
    v1::Pupil pupil = testing::MakePupil("p" + std::to_string(i), 7);
    pupil.set_class_name("class-" + std::to_string(i));
    log.Enrol(pupil, D("2025-09-01"), D("2025-08-20"));
    log.Mark(pupil.pupil_id(), D("2025-09-08"), v1::AM, "/");
  }
  AttendanceState state;
  for (const v1::EventEnvelope& e : log.events()) state.Apply(e);
  return state;
}

TEST_CASE("a crossed group_by gives at most 2,000 cohort rows", "[projections][limits]") {
  v1::GetCohortAttendanceRequest req;
  req.set_school_id("school-1");
  req.add_group_by(v1::CLASS_NAME);
  req.add_group_by(v1::SEX);
  const Day today = D("2025-09-12");
  auto at_limit = QueryCohorts(SchoolWithClasses(2000), req, today);
  REQUIRE(at_limit.ok());
  CHECK(at_limit->rows_size() == 2000);
  auto over = QueryCohorts(SchoolWithClasses(2001), req, today);
  CHECK(over.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(over.status().message()) ==
        "group_by: crossing 2 attributes gives more than the limit of 2000 cohorts; group by "
        "fewer attributes");
}

TEST_CASE("query errors are valid UTF-8 for any input", "[projections][utf8]") {
  const AttendanceState state = SchoolWithClasses(1);
  const Day today = D("2025-09-12");
  std::vector<absl::Status> errors;
  for (const std::string& text : {std::string("\xff\xfe"), std::string(100, '\xe2'),
                                  std::string("\xe2\x82\xac").append(90, 'x') + "\xe2\x82"}) {
    v1::GetPupilAttendanceRequest pupil;
    pupil.set_school_id(text);
    pupil.set_pupil_id("p0");
    errors.push_back(QueryPupilAttendance(state, pupil, today).status());
    pupil.set_school_id("school-1");
    pupil.set_pupil_id(text);
    errors.push_back(QueryPupilAttendance(state, pupil, today).status());
    pupil.set_as_of(text);
    errors.push_back(QueryPupilAttendance(state, pupil, today).status());

    v1::ListPupilAttendanceRequest list;
    list.set_school_id("school-1");
    v1::CohortFilter* filter = list.add_cohort();
    filter->set_attribute(v1::SEX);
    filter->set_value(text);
    errors.push_back(QueryPupilList(state, list, today).status());
    list.clear_cohort();
    list.set_page_token(text);
    errors.push_back(QueryPupilList(state, list, today).status());

    v1::GetCohortAttendanceRequest cohorts;
    cohorts.set_school_id(text);
    errors.push_back(QueryCohorts(state, cohorts, today).status());
  }
  for (const absl::Status& s : errors) {
    INFO(s.ToString());
    CHECK_FALSE(s.ok());
    CHECK(ledger::IsValidUtf8(std::string(s.message())));
  }
}

}  // namespace
}  // namespace attendance::projections
