// The Common Transfer File's attendance block (tools/ledgerctl/ctf.h): the
// subset of XML a CTF uses, the school's own YearData only, two sessions a
// calendar day, and bad input by line.
#include "ctf.h"

#include <catch2/catch.hpp>

namespace attendance::ledgerctl {
namespace {

constexpr char kCtf[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<!-- trimmed -->
<CTfile>
  <Header><SourceSchool><LEA>801</LEA><Estab>2000</Estab>
    <SchoolName>St Mary &amp; St John&#39;s</SchoolName></SourceSchool></Header>
  <CTFpupilData>
    <Pupil><UPN>H801200001001</UPN><Surname>O&apos;Neill</Surname>
      <Attendance>
        <YearData><LEA>999</LEA><Estab>9999</Estab>
          <AttendSessions><AttendanceStartDate>2024-09-02</AttendanceStartDate>
            <AttendanceMarks>/,\</AttendanceMarks></AttendSessions></YearData>
        <YearData><Year>2025</Year><LEA>801</LEA><Estab>2000</Estab>
          <SchoolName>St Mary &amp; St John&#39;s</SchoolName>
          <AttendSessions><AttendanceStartDate>2025-09-05</AttendanceStartDate>
            <AttendanceMarks><![CDATA[N, I,-,-,,,/,XX]]></AttendanceMarks>
          </AttendSessions></YearData>
      </Attendance></Pupil>
    <Pupil><UPN>H801200001002</UPN></Pupil>
  </CTFpupilData>
</CTfile>
)";

TEST_CASE("a CTF's own attendance: two sessions a calendar day from the start date", "[tools]") {
  auto ctf = ParseCtfAttendance(kCtf, "");
  REQUIRE(ctf.ok());
  CHECK(ctf->estab == "801-2000");
  CHECK(ctf->school_name == "St Mary & St John's");
  CHECK(ctf->pupils == 1);
  CHECK(ctf->years == 1);
  CHECK(ctf->marks.data_rows == 4);
  REQUIRE(ctf->marks.rows.size() == 3);
  const auto& rows = ctf->marks.rows;
  CHECK(rows[0].mark.pupil_id() == "H801200001001");
  CHECK(rows[0].mark.date() == "2025-09-05");  // Friday AM
  CHECK(rows[0].mark.session() == v1::AM);
  CHECK(rows[0].mark.code() == "N");
  CHECK(rows[1].mark.session() == v1::PM);
  CHECK(rows[1].mark.code() == "I");
  CHECK(rows[2].mark.date() == "2025-09-08");  // the weekend skipped: Monday AM
  CHECK(rows[2].mark.code() == "/");
  CHECK(rows[2].line == 15);
  REQUIRE(ctf->marks.errors.size() == 1);
  CHECK(ctf->marks.errors[0].line == 15);
  CHECK(ctf->marks.errors[0].message ==
        "pupil H801200001001: session 8 (2025-09-08 PM): \"XX\" is not an attendance code");
}

TEST_CASE("another establishment's YearData on request", "[tools]") {
  auto ctf = ParseCtfAttendance(kCtf, "999-9999");
  REQUIRE(ctf.ok());
  REQUIRE(ctf->marks.rows.size() == 2);
  CHECK(ctf->marks.rows[0].mark.date() == "2024-09-02");
  CHECK(ParseCtfAttendance(kCtf, "12").status().message() ==
        "the establishment \"12\" is not an LEA and establishment number (seven digits, e.g. "
        "123-4567)");
}

TEST_CASE("XML that does not parse, or is not a CTF, is refused by line", "[tools]") {
  CHECK(ParseCtfAttendance("<CTfile>\n<Header>\n</CTfile>", "").status().message() ==
        "line 3: </CTfile> closes <Header>");
  CHECK(ParseCtfAttendance("<CTfile>\n<a>&nbsp;</a></CTfile>", "").status().message() ==
        "line 2: an unknown entity &nbsp;");
  CHECK(ParseCtfAttendance("<Other/>", "").status().message() ==
        "line 1: the root is <Other>, not a CTF's <CTfile>");
  CHECK(ParseCtfAttendance("<CTfile>\n<Header>", "").status().message() ==
        "line 2: <Header> is never closed");
  CHECK(ParseCtfAttendance("<CTfile><CTFpupilData/></CTfile>", "").status().message() ==
        "the file has no Header/SourceSchool: give --estab LEA-ESTAB");
}

}  // namespace
}  // namespace attendance::ledgerctl
