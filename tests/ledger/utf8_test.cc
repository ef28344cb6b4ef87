// Issue 10, finding 5: messages were cut by bytes, splitting multi-byte
// characters, and limits said "characters" but counted bytes. Every status
// message must be valid UTF-8, whatever a client sends.
#include <catch2/catch.hpp>

#include "ledger/ledger.h"
#include "support/fixtures.h"

namespace attendance::testing {
namespace {

using Catch::Contains;
using ledger::IsValidUtf8;
using ledger::Printable;
using ledger::Quoted;
using ledger::Utf8Length;

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

const std::string kEuro = "\xe2\x82\xac";  // U+20AC, three bytes

TEST_CASE("UTF-8 is measured in characters and checked for well-formedness", "[ledger][utf8]") {
  CHECK(Utf8Length("") == 0);
  CHECK(Utf8Length("abc") == 3);
  CHECK(Utf8Length(Repeat(kEuro, 30)) == 30);
  CHECK(Utf8Length("\xf0\x9f\x98\x80") == 1);  // U+1F600, four bytes
  CHECK(Utf8Length("a\xff"
                   "b") == 3);  // a stray byte counts as one
  CHECK(IsValidUtf8("Zo\xc3\xab"));
  CHECK_FALSE(IsValidUtf8("\xff"));
  CHECK_FALSE(IsValidUtf8("\xe2\x82"));          // cut short
  CHECK_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong "/"
  CHECK_FALSE(IsValidUtf8("\xed\xa0\x80"));      // a surrogate
  CHECK_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  CHECK(Printable("a\xff\n" + kEuro) == "a\\xff\\x0a" + kEuro);
}

TEST_CASE("Quoted cuts at 80 characters, never inside one, and escapes bad bytes",
          "[ledger][utf8]") {
  CHECK(Quoted("H") == "\"H\"");
  CHECK(Quoted(Repeat(kEuro, 80)) == "\"" + Repeat(kEuro, 80) + "\"");
  CHECK(Quoted(Repeat(kEuro, 81)) == "\"" + Repeat(kEuro, 80) + "...\"");
  CHECK(Quoted("x" + Repeat(kEuro, 100)) == "\"x" + Repeat(kEuro, 79) + "...\"");
  CHECK(Quoted("\xe2\x82") == "\"\\xe2\\x82\"");
  CHECK(IsValidUtf8(Quoted(Repeat("\xff\xe2\x82\xac\xe2", 50))));
}

// Calls every write method with `text` in its identifying and free-text
// fields and returns each status message.
std::vector<std::string> EveryMethodWith(LedgerFixture& f, const std::string& text) {
  std::vector<std::string> messages;
  auto keep = [&](const absl::Status& s) {
    INFO("call " << messages.size() << " with " << Printable(text));
    REQUIRE_FALSE(s.ok());
    messages.emplace_back(s.message());
  };
  for (const std::string& school : {text, std::string("s1")}) {
    const std::string pupil = school == "s1" ? text : "p1";
    v1::RecordMarksRequest marks;
    marks.set_school_id(school);
    marks.set_request_id(text);
    *marks.add_marks() = MakeMark(pupil, text, v1::AM, text);
    keep(f.ledger->RecordMarks(kTeacher, marks).status());
    marks.clear_request_id();
    keep(f.ledger->RecordMarks(kTeacher, marks).status());
    *marks.mutable_marks(0) = MakeMark("p1", "2025-09-08", v1::AM, text);
    keep(f.ledger->RecordMarks(kTeacher, marks).status());
    *marks.mutable_marks(0) = MakeMark("p1", "2025-09-08", v1::AM, "/");
    marks.mutable_marks(0)->set_comment(Repeat(text, 1001));
    if (school == "s1") keep(f.ledger->RecordMarks(kTeacher, marks).status());

    v1::AmendMarkRequest amend;
    amend.set_school_id(school);
    amend.set_pupil_id(pupil);
    amend.set_date(text);
    amend.set_session(v1::AM);
    amend.set_amended_code(text);
    amend.set_reason(Repeat(text, 1001));
    amend.set_expected_code(text);
    keep(f.ledger->AmendMark(kOfficer, amend).status());

    v1::RecordLetterRequest letter;
    letter.set_school_id(school);
    letter.set_pupil_id(pupil);
    letter.set_letter_id(text);
    letter.set_channel(v1::POST);
    letter.set_sent_on(text);
    keep(f.ledger->RecordLetter(kOfficer, letter).status());

    v1::EnrolPupilRequest enrol = Enrol(school, text);
    enrol.mutable_pupil()->set_given_name(Repeat(text, 40));
    keep(f.ledger->EnrolPupil(kOfficer, enrol).status());
    enrol = Enrol(school, "p-new");
    enrol.mutable_pupil()->set_family_name(Repeat(text, 40));
    enrol.set_on_roll_from(text);
    keep(f.ledger->EnrolPupil(kOfficer, enrol).status());

    v1::UpdatePupilRequest update;
    update.set_school_id(school);
    *update.mutable_pupil() = Enrol(school, "p1").pupil();
    update.mutable_pupil()->set_class_name(Repeat(text, 40));
    update.set_effective_from(text);
    keep(f.ledger->UpdatePupil(kOfficer, update).status());

    v1::RemoveFromRollRequest remove;
    remove.set_school_id(school);
    remove.set_pupil_id(pupil);
    remove.set_last_day_on_roll(text);
    remove.set_reason(Repeat(text, 1001));
    keep(f.ledger->RemoveFromRoll(kOfficer, remove).status());

    v1::SetSchoolCalendarRequest calendar = Calendar2025(school);
    calendar.mutable_calendar()->mutable_terms(0)->set_name(Repeat(text, 40));
    calendar.mutable_calendar()->mutable_closures(0)->set_date(text);
    keep(f.ledger->SetSchoolCalendar(kOfficer, calendar).status());
    calendar = Calendar2025(school);
    calendar.mutable_calendar()->mutable_terms(0)->mutable_half_terms(0)->set_first_day(text);
    keep(f.ledger->SetSchoolCalendar(kOfficer, calendar).status());

    v1::SetSchoolSettingsRequest settings = Settings(school);
    settings.mutable_settings()->set_school_name(Repeat(text, 1001));
    settings.mutable_settings()->set_am_register_closes(text);
    keep(f.ledger->SetSchoolSettings(kOfficer, settings).status());
    settings = Settings(school);
    settings.mutable_settings()->set_am_register_closes(text);
    keep(f.ledger->SetSchoolSettings(kOfficer, settings).status());
  }
  // The actor, from call metadata.
  keep(f.ledger
           ->RecordMarks(ledger::Principal{Repeat(text, 70), "teacher"}, v1::RecordMarksRequest())
           .status());
  keep(f.ledger->RecordMarks(ledger::Principal{"Ms T", text}, v1::RecordMarksRequest()).status());
  return messages;
}

TEST_CASE("every method's status message is valid UTF-8, for multi-byte and invalid input",
          "[ledger][utf8]") {
  LedgerFixture f(1);
  const auto before = f.ledger->LastPosition();
  for (const std::string& text :
       {Repeat(kEuro, 30), Repeat("\xf0\x9f\x98\x80", 30), std::string("\xff\xfe"),
        "ok" + kEuro.substr(0, 2), Repeat("a" + kEuro, 50) + "\xc3", std::string("\x01\x7f")}) {
    for (const std::string& message : EveryMethodWith(f, text)) {
      INFO(message);
      CHECK(IsValidUtf8(message));
    }
  }
  CHECK(f.ledger->LastPosition() == before);
}

TEST_CASE("limits count characters, and name the limit", "[ledger][utf8]") {
  LedgerFixture f(1);
  // The finding: a school_id of thirty euro signs (90 bytes) in a batch with
  // a request id. 30 characters are within the 64 allowed; the characters
  // themselves are what is wrong.
  v1::RecordMarksRequest marks;
  marks.set_school_id(Repeat(kEuro, 30));
  marks.set_request_id("r-1");
  *marks.add_marks() = MakeMark("p1", "2025-09-08", v1::AM, "/");
  auto r = f.ledger->RecordMarks(kTeacher, marks);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(r.status().message()) ==
        "school_id: \"" + Repeat(kEuro, 30) + "\" may only contain letters, digits and - _ . :");
  marks.set_school_id(Repeat(kEuro, 65));
  r = f.ledger->RecordMarks(kTeacher, marks);
  CHECK(std::string(r.status().message()) ==
        "school_id: \"" + Repeat(kEuro, 65) + "\" must be 1 to 64 characters");
  marks.set_school_id("s1");
  marks.set_request_id(Repeat(kEuro, 129));
  r = f.ledger->RecordMarks(kTeacher, marks);
  CHECK(std::string(r.status().message()) == "request_id: 129 characters is longer than 128");
  marks.set_request_id(Repeat(kEuro, 128));  // 384 bytes, within the limit
  CHECK(f.ledger->RecordMarks(kTeacher, marks).ok());

  v1::RecordMarksRequest commented;
  commented.set_school_id("s1");
  *commented.add_marks() = MakeMark("p1", "2025-09-08", v1::PM, "\\");
  commented.mutable_marks(0)->set_comment(Repeat(kEuro, 2001));
  r = f.ledger->RecordMarks(kTeacher, commented);
  CHECK(std::string(r.status().message()) ==
        "marks[0].comment: 2001 characters is longer than 2000");
  commented.mutable_marks(0)->set_comment(Repeat(kEuro, 2000));
  CHECK(f.ledger->RecordMarks(kTeacher, commented).ok());
  commented.mutable_marks(0)->set_session(v1::AM);
  commented.set_request_id("");
  commented.mutable_marks(0)->set_date("2025-09-09");
  commented.mutable_marks(0)->set_code("/");
  commented.mutable_marks(0)->set_comment("phoned \xff");
  r = f.ledger->RecordMarks(kTeacher, commented);
  CHECK(std::string(r.status().message()) ==
        "marks[0].comment: \"phoned \\xff\" is not valid UTF-8");
  CHECK(f.ledger->RecordMarks(ledger::Principal{Repeat(kEuro, 201), "teacher"}, commented)
            .status()
            .message() == "principal.name: 201 characters is longer than 200");
}

}  // namespace
}  // namespace attendance::testing
