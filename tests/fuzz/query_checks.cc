#include "query_checks.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "fuzz_support.h"
#include "projections/attendance_queries.h"

namespace attendance::fuzz {
namespace {

void CheckStrings(const google::protobuf::Message& answer, absl::string_view what) {
  if (!StringsAreUtf8(answer)) {
    Fail(absl::StrCat(what, ": answer has a string that is not valid UTF-8: ",
                      answer.ShortDebugString().substr(0, 2000)));
  }
}

void CheckPercent(double value, absl::string_view field, absl::string_view what) {
  if (!(value >= 0.0 && value <= 100.0)) Fail(absl::StrCat(what, ": ", field, " = ", value));
}

}  // namespace

void CheckQueryStatus(const absl::Status& status, absl::string_view what) {
  CheckMessageUtf8(status, what);
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kResourceExhausted:
      break;
    default:
      Fail(absl::StrCat(what, ": rejected with ", status.ToString()));
  }
  if (status.message().empty()) Fail(absl::StrCat(what, ": rejected without a message"));
}

void CheckFigures(const v1::AttendanceFigures& f, absl::string_view what) {
  const std::uint64_t parts =
      std::uint64_t{f.attended_sessions()} + f.authorised_absence() + f.unauthorised_absence();
  if (parts != f.possible_sessions()) {
    Fail(absl::StrCat(what, ": figures do not add up: ", f.ShortDebugString()));
  }
  std::uint64_t coded = 0;
  for (const v1::CodeCount& c : f.code_counts()) coded += c.sessions();
  if (coded < f.possible_sessions()) {
    Fail(absl::StrCat(what, ": code counts miss possible sessions: ", f.ShortDebugString()));
  }
  CheckPercent(f.attendance_percent(), "attendance_percent", what);
  CheckPercent(f.absence_percent(), "absence_percent", what);
  if (f.severe_absence() && !f.persistent_absence()) {
    Fail(absl::StrCat(what, ": severe but not persistent absence: ", f.ShortDebugString()));
  }
}

void CheckAnswer(const v1::PupilAttendance& answer, absl::string_view what) {
  CheckStrings(answer, what);
  for (const v1::WindowFigures& w : answer.windows()) CheckFigures(w.figures(), what);
}

void CheckAnswer(const v1::ListPupilAttendanceResponse& answer, absl::string_view what) {
  CheckStrings(answer, what);
  if (answer.pupils_size() > 1000 ||
      answer.total_size() < static_cast<std::uint32_t>(answer.pupils_size())) {
    Fail(absl::StrCat(what, ": ", answer.pupils_size(), " rows of ", answer.total_size()));
  }
  for (const v1::PupilRow& row : answer.pupils()) CheckFigures(row.figures(), what);
}

void CheckAnswer(const v1::CohortAttendanceResponse& answer, absl::string_view what) {
  CheckStrings(answer, what);
  CheckFigures(answer.whole_school().figures(), what);
  std::uint64_t pupils = 0;
  std::uint64_t possible = 0;
  for (const v1::CohortRow& row : answer.rows()) {
    CheckFigures(row.figures(), what);
    CheckPercent(row.persistent_absence_rate(), "persistent_absence_rate", what);
    CheckPercent(row.severe_absence_rate(), "severe_absence_rate", what);
    pupils += row.pupils();
    possible += row.figures().possible_sessions();
  }
  // Every member of the school falls in exactly one row of a grouping.
  if (answer.rows_size() > 0 && (pupils != answer.whole_school().pupils() ||
                                 possible != answer.whole_school().figures().possible_sessions())) {
    Fail(absl::StrCat(what, ": rows sum to ", pupils, " pupils and ", possible,
                      " possible sessions; the whole school has ",
                      answer.whole_school().ShortDebugString()));
  }
}

std::string QueryEverything(const projections::AttendanceState& state, int max_schools,
                            int max_pupils, ledger::Day as_of_day) {
  std::string transcript;
  const ledger::Day today = Today();
  const std::string as_of = ledger::FormatDate(as_of_day);
  int schools = 0;
  for (const auto& [id, school] : state.schools()) {
    if (++schools > max_schools) break;
    for (const std::string& date : {std::string(), as_of}) {
      v1::GetCohortAttendanceRequest cohorts;
      cohorts.set_school_id(id);
      cohorts.set_as_of(date);
      CheckQuery(projections::QueryCohorts(state, cohorts, today), "QueryCohorts(whole school)",
                 &transcript);
      cohorts.add_group_by(v1::YEAR_GROUP);
      cohorts.add_group_by(v1::SEX);
      CheckQuery(projections::QueryCohorts(state, cohorts, today), "QueryCohorts(year, sex)",
                 &transcript);

      v1::ListPupilAttendanceRequest list;
      list.set_school_id(id);
      list.set_as_of(date);
      list.set_page_size(10);
      CheckQuery(projections::QueryPupilList(state, list, today), "QueryPupilList", &transcript);

      int pupils = 0;
      for (const projections::PupilState& pupil : school->pupils) {
        if (++pupils > max_pupils) break;
        v1::GetPupilAttendanceRequest one;
        one.set_school_id(id);
        one.set_pupil_id(pupil.id);
        one.set_as_of(date);
        CheckQuery(projections::QueryPupilAttendance(state, one, today), "QueryPupilAttendance",
                   &transcript);
      }
    }
  }
  return transcript;
}

}  // namespace attendance::fuzz
