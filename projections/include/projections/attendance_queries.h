#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "attendance/v1/projections_service.pb.h"
#include "projections/attendance_state.h"
#include "projections/windows.h"

namespace attendance::projections {

// The read side of the Projections service, as pure functions of the state
// and the request, so that they are tested without gRPC. `today` is the UK
// date used when a request gives no `as_of`.
//
// Errors: INVALID_ARGUMENT naming the field and value (empty school_id,
// malformed as_of, bad window, page size or token, unknown cohort value);
// NOT_FOUND for an unknown school or pupil (or one not yet known as of the
// date asked for).
absl::StatusOr<v1::PupilAttendance> QueryPupilAttendance(const AttendanceState& state,
                                                         const v1::GetPupilAttendanceRequest& req,
                                                         Day today);

absl::StatusOr<v1::ListPupilAttendanceResponse> QueryPupilList(
    const AttendanceState& state, const v1::ListPupilAttendanceRequest& req, Day today);

absl::StatusOr<v1::CohortAttendanceResponse> QueryCohorts(const AttendanceState& state,
                                                          const v1::GetCohortAttendanceRequest& req,
                                                          Day today);

// Cohort membership for a window as of a date: the pupil was known by then
// and, for a window that runs up to the date (year to date, current term,
// current half-term, rolling weeks), is on roll on that date: a leaver leaves
// the current cohorts from their leaving date. For a past window (a previous
// academic year), a pupil on roll on any day of it belongs to it.
bool InCohort(const PupilState& pupil, const ResolvedWindow& window, Day as_of);

// The day whose details (year group, class, SEND...) place the pupil in a
// cohort for `window`: the as-of date, or a past window's last day.
Day CohortDay(const ResolvedWindow& window, Day as_of);

// The value a pupil has for a cohort attribute, as it appears in CohortRow
// keys and CohortFilter values: "7" for YEAR_GROUP, the class name, "FEMALE" /
// "MALE" / "SEX_UNSPECIFIED", "SEND_NONE" / "SEN_SUPPORT" / "EHC_PLAN",
// "true" / "false" for the flags, "all" for the whole school.
std::string AttributeValue(const v1::Pupil& pupil, v1::CohortAttribute attribute);

}  // namespace attendance::projections
