#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "attendance/v1/projections_service.pb.h"
#include "projections/attendance_state.h"

// The checks every query answer must pass, whatever state it was asked of.
namespace attendance::fuzz {

// A rejection is INVALID_ARGUMENT, NOT_FOUND or RESOURCE_EXHAUSTED with a
// message; an answer has only valid UTF-8 strings and figures that add up
// (attended + authorised + unauthorised = possible, percentages in [0, 100]).
void CheckQueryStatus(const absl::Status& status, absl::string_view what);
void CheckFigures(const v1::AttendanceFigures& figures, absl::string_view what);
void CheckAnswer(const v1::PupilAttendance& answer, absl::string_view what);
void CheckAnswer(const v1::ListPupilAttendanceResponse& answer, absl::string_view what);
void CheckAnswer(const v1::CohortAttendanceResponse& answer, absl::string_view what);

// Checks the result and appends it (the answer's bytes, or the status) to
// `transcript`, so that two states can be compared by what they answer.
template <typename Answer>
void CheckQuery(const absl::StatusOr<Answer>& result, absl::string_view what,
                std::string* transcript = nullptr) {
  if (result.ok()) {
    CheckAnswer(*result, what);
    if (transcript != nullptr) transcript->append(result->SerializeAsString());
  } else {
    CheckQueryStatus(result.status(), what);
    if (transcript != nullptr) transcript->append(result.status().ToString());
  }
}

// A few queries over every school of `state` (at most `max_schools`, and
// `max_pupils` pupils each): the whole-school and year-group tables, the
// first page of the pupil list and each pupil's figures, as of today and of
// `as_of_day`. Used on states folded from, or decoded from, fuzzed bytes.
// Returns the transcript of the answers.
std::string QueryEverything(const projections::AttendanceState& state, int max_schools,
                            int max_pupils, ledger::Day as_of_day);

}  // namespace attendance::fuzz
