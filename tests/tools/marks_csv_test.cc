// The CSV reader and the local checks of import-marks (tools/ledgerctl/marks_csv.h).
#include "marks_csv.h"

#include <catch2/catch.hpp>

namespace attendance::ledgerctl {
namespace {

TEST_CASE("CSV records keep quoted commas, quotes and line breaks, and their first line",
          "[tools]") {
  auto records = ParseCsv(
      "\xEF\xBB\xBF"
      "a,b\r\n\"x,1\",\"say \"\"hi\"\"\r\nthere\"\r\n\r\nlast,\n");
  REQUIRE(records.ok());
  REQUIRE(records->size() == 3);
  CHECK((*records)[0].fields == std::vector<std::string>{"a", "b"});
  CHECK((*records)[1].line == 2);
  CHECK((*records)[1].fields == std::vector<std::string>{"x,1", "say \"hi\"\nthere"});
  CHECK((*records)[2].line == 5);
  CHECK((*records)[2].fields == std::vector<std::string>{"last", ""});
}

TEST_CASE("a quote never closed names its line", "[tools]") {
  auto records = ParseCsv("a,b\n1,\"open\n2,3\n");
  REQUIRE_FALSE(records.ok());
  CHECK(records.status().message() == "line 2: a quoted field is never closed");
}

TEST_CASE("SIMS rows: dates in either form, amendments, and bad rows by line", "[tools]") {
  auto file = ParseMarksCsv(
      "PersonID,AttendanceDate,SessionName,AttendanceMark,MinsLate,Comments,OriginalMark,"
      "AmendedMark,AmendmentReason\n"
      "P1,08/09/2025,AM,L,10,late bus,,,\n"
      "P1,2025-09-08T00:00:00,pm,,,,N,I,illness\n"
      "P2,2025-09-08,AM,H,,,,,\n"    // H left the code set in August 2024
      "P2,2025-09-08,XM,/,,,,,\n"    // no such session
      "P2,2025-09-08,PM,,,,N,I,\n"   // an amendment without a reason
      "P1,08/09/2025,AM,/,,,,,\n");  // the first row's session again
  REQUIRE(file.ok());
  CHECK(file->data_rows == 6);
  REQUIRE(file->rows.size() == 2);
  CHECK(file->rows[0].mark.date() == "2025-09-08");
  CHECK(file->rows[0].mark.minutes_late() == 10);
  CHECK(file->rows[0].mark.comment() == "late bus");
  CHECK(file->rows[1].mark.code() == "N");
  REQUIRE(file->rows[1].amendments.size() == 1);
  CHECK(file->rows[1].amendments[0].amended_code == "I");
  CHECK(file->rows[1].amendments[0].line == 3);
  CHECK(file->rows[1].taken_at_us == 0);
  REQUIRE(file->errors.size() == 4);
  CHECK(file->errors[0].line == 4);
  CHECK(file->errors[0].message == "code \"H\" is not valid for a session on 2025-09-08");
  CHECK(file->errors[1].message == "session \"XM\" is not AM or PM");
  CHECK(file->errors[2].message == "an amendment needs a reason");
  CHECK(file->errors[3].message == "repeats line 2 (pupil \"P1\", 2025-09-08 AM)");
}

TEST_CASE("times: RFC 3339 with a zone, or school-local without one", "[tools]") {
  // 2025-10-06 08:52 BST is 07:52 UTC.
  const std::int64_t expected = 1'759'737'120'000'000;
  CHECK(ParseImportTime("2025-10-06T07:52:00Z") == expected);
  CHECK(ParseImportTime("2025-10-06T08:52:00+01:00") == expected);
  CHECK(ParseImportTime("2025-10-06 08:52") == expected);
  CHECK(ParseImportTime("2025-10-06T08:52:00") == expected);
  CHECK(ParseImportTime("06/10/2025 08:52") == expected);
  CHECK(ParseImportTime(" 06/10/2025 08:52:00 ") == expected);
  // In winter England is on GMT.
  CHECK(ParseImportTime("2025-12-01 09:00") == 1'764'579'600'000'000);
  CHECK_FALSE(ParseImportTime("yesterday").has_value());
  CHECK_FALSE(ParseImportTime("2025-10-06").has_value());
}

TEST_CASE("history rows: when and by whom taken, and a session's later amendments", "[tools]") {
  auto file = ParseMarksCsv(
      "PersonID,AttendanceDate,SessionName,AttendanceMark,TakenAt,TakenBy,OriginalMark,"
      "AmendedMark,AmendmentReason,AmendedBy,AmendedAt\n"
      "P2,06/10/2025,AM,,06/10/2025 08:55,Miss C. Patel,N,O,no contact,Mrs A. Office,"
      "08/10/2025 16:00\n"
      "P2,06/10/2025,AM,I,,,O,I,parent phoned,Mrs A. Office,09/10/2025 09:10\n"
      "P2,06/10/2025,AM,,,,N,C,leave,Mrs A. Office,10/10/2025 09:00\n"  // N is not the code now
      "P3,06/10/2025,AM,/,soon,,,,,,\n"
      "P3,06/10/2025,PM,,,,N,I,illness,,next week\n");
  REQUIRE(file.ok());
  REQUIRE(file->rows.size() == 1);
  const ImportRow& row = file->rows[0];
  CHECK(row.mark.code() == "N");
  CHECK(row.taken_by == "Miss C. Patel");
  CHECK(row.taken_at_us == *ParseImportTime("2025-10-06 08:55"));
  REQUIRE(row.amendments.size() == 2);
  CHECK(row.amendments[0].amended_code == "O");
  CHECK(row.amendments[0].amended_by == "Mrs A. Office");
  CHECK(row.amendments[0].amended_at_us == *ParseImportTime("2025-10-08 16:00"));
  CHECK(row.amendments[1].amended_code == "I");
  CHECK(row.amendments[1].line == 3);
  REQUIRE(file->errors.size() == 3);
  CHECK(file->errors[0].line == 4);
  CHECK(file->errors[0].message ==
        "repeats line 2 (pupil \"P2\", 2025-10-06 AM); its original_code \"N\" is not the "
        "session's code so far, \"I\"");
  CHECK(file->errors[1].message ==
        "taken_at \"soon\" is not a time (YYYY-MM-DDTHH:MM:SS[Z or +HH:MM], or DD/MM/YYYY "
        "HH:MM)");
  CHECK(file->errors[2].line == 6);
  CHECK(file->errors[2].message.rfind("amended_at \"next week\" is not a time", 0) == 0);
}

TEST_CASE("a header without the required columns is refused", "[tools]") {
  CHECK(ParseMarksCsv("").status().message() == "the file is empty (no header)");
  CHECK(ParseMarksCsv("student_id,date,code\n").status().message() ==
        "line 1: the header has no session (SessionName or session) column");
}

}  // namespace
}  // namespace attendance::ledgerctl
