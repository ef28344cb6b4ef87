// The attendance block of a Common Transfer File (../shared/school-systems.md
// §3), read into the rows import-marks sends (marks_csv.h):
//
//   <CTfile><Header>...<SourceSchool><LEA/><Estab/><SchoolName/></SourceSchool></Header>
//   <CTFpupilData><Pupil><UPN/>...
//     <Attendance><YearData><Year/><LEA/><Estab/><SchoolName/>
//       <SessionsPossible/>...
//       <AttendSessions><AttendanceStartDate>YYYY-MM-DD</AttendanceStartDate>
//                       <AttendanceMarks>/,\,N,...</AttendanceMarks></AttendSessions>
//     </YearData></Attendance></Pupil></CTFpupilData></CTfile>
//
// AttendanceMarks is read as CTF 24 and later write it: comma-separated one-
// or two-character codes, two a calendar day (AM then PM) from
// AttendanceStartDate. A session with no mark (a weekend, a holiday, before
// the pupil joined) is empty or "-" and is skipped. This reading of the
// string (calendar days, "-") is ours: it has not been checked against the
// DfE's CTF 25 schema, which may name the block differently
// (Attendance/AttendanceDetails).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "marks_csv.h"

namespace attendance::ledgerctl {

struct CtfAttendance {
  MarksFile marks;          // one row per session, its line the AttendanceMarks element's
  std::string estab;        // the LEA and establishment number imported, e.g. "123-4567"
  std::string school_name;  // that school's name, as the file gives it
  int pupils = 0;           // pupils with at least one YearData block imported
  int years = 0;            // YearData blocks imported
};

// Reads the YearData blocks of the establishment `estab` ("LEA-Estab" or
// the seven digits; empty: the file's SourceSchool, the school that wrote
// it), each pupil's id its UPN. INVALID_ARGUMENT naming the line when the
// XML does not parse or is not a CTF; a bad block or code is a RowError.
absl::StatusOr<CtfAttendance> ParseCtfAttendance(absl::string_view xml, absl::string_view estab);

}  // namespace attendance::ledgerctl
