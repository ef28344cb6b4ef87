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
  REQUIRE(file->rows[1].amendment.has_value());
  CHECK(file->rows[1].amendment->amended_code == "I");
  REQUIRE(file->errors.size() == 4);
  CHECK(file->errors[0].line == 4);
  CHECK(file->errors[0].message == "code \"H\" is not valid for a session on 2025-09-08");
  CHECK(file->errors[1].message == "session \"XM\" is not AM or PM");
  CHECK(file->errors[2].message == "an amendment needs a reason");
  CHECK(file->errors[3].message == "repeats line 2 (pupil \"P1\", 2025-09-08 AM)");
}

TEST_CASE("a header without the required columns is refused", "[tools]") {
  CHECK(ParseMarksCsv("").status().message() == "the file is empty (no header)");
  CHECK(ParseMarksCsv("student_id,date,code\n").status().message() ==
        "line 1: the header has no session (SessionName or session) column");
}

}  // namespace
}  // namespace attendance::ledgerctl
