// Marks files in the shapes schools' systems export (../shared/school-systems.md
// §3): one row per pupil, date and session, with the code, minutes late and a
// comment, as SIMS (SessionAttendance: PersonID, AttendanceDate, SessionName,
// AttendanceMark, Comments, MinsLate) and Wonde (student_id, date, session,
// attendance_code, comment) give them; optionally the mark's amendment
// (original code, amended code, reason, who, when). Parsing and the checks
// that need no server are here, so that --all-or-nothing can refuse a file
// before anything is written.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "attendance/v1/ledger_service.pb.h"

namespace attendance::ledgerctl {

// One record of an RFC 4180 file (quoted fields may hold commas, quotes and
// line breaks; CRLF or LF; a UTF-8 byte-order mark is skipped). `line` is
// the 1-based line the record starts on.
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
};
// INVALID_ARGUMENT naming the line of a quote that is never closed.
absl::StatusOr<std::vector<CsvRecord>> ParseCsv(absl::string_view text);

struct ImportedAmendment {
  int line = 0;  // the row that gave it
  std::string amended_code;
  std::string reason;
  std::string amended_by;  // as the source gives it
  std::string amended_at;
  std::int64_t amended_at_us = 0;  // amended_at parsed; 0 when the row has none
  std::uint32_t minutes_late = 0;
};

// A row that passed the local checks. `mark.code` is what the register
// first recorded: the original code when the row has an amendment. Later
// rows for the same session that amend its last code add their amendment
// here, in file order (a history exported one entry a row).
struct ImportRow {
  int line = 0;
  attendance::v1::Mark mark;
  std::string taken_by;
  std::int64_t taken_at_us = 0;  // 0 when the file does not say
  std::vector<ImportedAmendment> amendments;
};

// When a mark was taken or amended: RFC 3339 ("2025-09-10T09:15:00Z",
// "+01:00"), or without a zone in school-local time (Europe/London):
// "YYYY-MM-DD HH:MM[:SS]", "YYYY-MM-DDTHH:MM[:SS]", "DD/MM/YYYY HH:MM[:SS]".
// Microseconds since the epoch, or nullopt.
std::optional<std::int64_t> ParseImportTime(absl::string_view text);

struct RowError {
  int line = 0;
  std::string message;
};

struct MarksFile {
  std::vector<ImportRow> rows;
  std::vector<RowError> errors;  // in line order
  int data_rows = 0;             // rows after the header, blank ones not counted
};

// The header names the columns (case, spaces, `_` and `-` ignored):
//   pupil:   PersonID, student_id, pupil_id, pupil
//   date:    AttendanceDate, date, session_date  (YYYY-MM-DD, with an optional time,
//            or DD/MM/YYYY)
//   session: SessionName, session  (AM or PM)
//   code:    AttendanceMark, attendance_code, code, mark
//   optional: MinsLate / minutes_late, Comments / comment, when and by whom
//            the mark was taken (taken_at / TakenAt / recorded_at, taken_by /
//            TakenBy / EmployeeID), and for an amendment original_code /
//            OriginalMark, amended_code / AmendedMark, reason /
//            AmendmentReason, amended_by, amended_at (times: ParseImportTime)
// Other columns are ignored. INVALID_ARGUMENT when the file has no header or
// a required column is missing; a bad row is a RowError, not a failure.
absl::StatusOr<MarksFile> ParseMarksCsv(absl::string_view text);

// The columns export-marks writes, which ParseMarksCsv reads back.
inline constexpr absl::string_view kMarksCsvHeader =
    "pupil_id,date,session,code,minutes_late,comment,original_code,amended_code,reason,"
    "amended_by,amended_at";

}  // namespace attendance::ledgerctl
