#include "fuzz_support.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/stubs/logging.h"
#include "ledger/clock.h"
#include "spdlog/spdlog.h"
#include "support/fixtures.h"

namespace attendance::fuzz {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::atomic<std::uint64_t> invalid_utf8_messages{0};

bool Utf8CheckIsFatal() {
  static const bool fatal = [] {
    // On by default since status messages are made valid UTF-8
    // (ledger::Quoted, ToGrpcStatus); ATTENDANCE_FUZZ_UTF8=0 only counts.
    const char* value = std::getenv("ATTENDANCE_FUZZ_UTF8");
    return value == nullptr || absl::string_view(value) != "0";
  }();
  return fatal;
}

void ReportAtExit() {
  if (invalid_utf8_messages > 0) {
    std::fprintf(stderr,
                 "fuzz: %llu status messages were not valid UTF-8 "
                 "(set ATTENDANCE_FUZZ_UTF8=1 to fail on them)\n",
                 static_cast<unsigned long long>(invalid_utf8_messages.load()));
  }
}

absl::Status Check(const absl::Status& status, absl::string_view what) {
  if (status.ok()) return status;
  return absl::Status(status.code(), std::string(what) + ": " + std::string(status.message()));
}

}  // namespace

ledger::Day Today() { return ledger::SchoolLocalDay(kNowUs); }

void QuietLogs() {
  spdlog::set_level(spdlog::level::err);
  // Protobuf logs every string field with invalid UTF-8 it refuses to parse.
  google::protobuf::SetLogHandler(nullptr);
  static const bool registered = [] { return std::atexit(ReportAtExit) == 0; }();
  (void)registered;
}

void Fail(absl::string_view what) {
  std::fprintf(stderr, "fuzz finding: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

bool IsValidUtf8(absl::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    std::uint32_t code_point = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
      code_point = lead & 0x1fu;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      code_point = lead & 0x0fu;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      code_point = lead & 0x07u;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0u) != 0x80u) return false;
      code_point = (code_point << 6) | (next & 0x3fu);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF.
    if ((length == 3 && code_point < 0x800) || (length == 4 && code_point < 0x10000) ||
        (code_point >= 0xd800 && code_point <= 0xdfff) || code_point > 0x10ffff) {
      return false;
    }
    i += length;
  }
  return true;
}

bool StringsAreUtf8(const Message& message) {
  const Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const bool repeated = field->is_repeated();
    const int count = repeated ? reflection->FieldSize(message, field) : 1;
    for (int i = 0; i < count; ++i) {
      if (field->type() == FieldDescriptor::TYPE_STRING) {
        std::string scratch;
        const std::string& value =
            repeated ? reflection->GetRepeatedStringReference(message, field, i, &scratch)
                     : reflection->GetStringReference(message, field, &scratch);
        if (!IsValidUtf8(value)) return false;
      } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        const Message& sub = repeated ? reflection->GetRepeatedMessage(message, field, i)
                                      : reflection->GetMessage(message, field);
        if (!StringsAreUtf8(sub)) return false;
      }
    }
  }
  return true;
}

void CheckMessageUtf8(const absl::Status& status, absl::string_view where) {
  const absl::string_view message = status.message();
  if (IsValidUtf8(message)) return;
  std::string what =
      std::string(where) + ": status message is not valid UTF-8: " + std::string(status.ToString());
  if (Utf8CheckIsFatal()) Fail(what);
  if (invalid_utf8_messages.fetch_add(1) < 3) std::fprintf(stderr, "fuzz: %s\n", what.c_str());
}

std::uint64_t InvalidUtf8Messages() { return invalid_utf8_messages.load(); }

absl::Status SetUpSchool(ledger::Ledger& ledger) {
  using testing::kOfficer;
  using testing::kTeacher;
  using testing::MakeMark;
  if (auto s = ledger.SetSchoolSettings(kOfficer, testing::Settings("s1")); !s.ok()) {
    return Check(s.status(), "settings");
  }
  if (auto s = ledger.SetSchoolCalendar(kOfficer, testing::Calendar2025("s1")); !s.ok()) {
    return Check(s.status(), "calendar");
  }
  for (const char* pupil : {"p1", "p2", "p3"}) {
    if (auto s = ledger.EnrolPupil(kOfficer, testing::Enrol("s1", pupil)); !s.ok()) {
      return Check(s.status(), "enrol");
    }
  }
  v1::EnrolPupilRequest p4 = testing::Enrol("s1", "p4", "2025-09-01", 8);
  p4.mutable_pupil()->set_class_name("8B");
  p4.mutable_pupil()->set_sex(v1::MALE);
  p4.mutable_pupil()->set_send(v1::SEN_SUPPORT);
  p4.mutable_pupil()->set_free_school_meals(true);
  if (auto s = ledger.EnrolPupil(kOfficer, p4); !s.ok()) return Check(s.status(), "enrol p4");

  // A week of registers with a present, a late, an illness, a medical
  // appointment and an unexplained absence among them.
  const char* kDays[] = {"2025-09-08", "2025-09-09", "2025-09-10", "2025-09-11", "2025-09-12"};
  const char* kCodes[] = {"/", "\\", "L", "I", "N", "M", "/", "/"};
  int n = 0;
  for (const char* day : kDays) {
    v1::RecordMarksRequest marks;
    marks.set_school_id("s1");
    marks.set_request_id(std::string("setup-") + day);
    for (const char* pupil : {"p1", "p2", "p3", "p4"}) {
      for (v1::Session session : {v1::AM, v1::PM}) {
        v1::Mark mark = MakeMark(pupil, day, session, kCodes[n++ % 8]);
        if (mark.code() == "L") mark.set_minutes_late(10);
        *marks.add_marks() = mark;
      }
    }
    if (auto s = ledger.RecordMarks(kTeacher, marks); !s.ok()) return Check(s.status(), "marks");
  }

  v1::AmendMarkRequest amend;
  amend.set_school_id("s1");
  amend.set_request_id("setup-amend");
  amend.set_pupil_id("p1");
  amend.set_date("2025-09-09");
  amend.set_session(v1::AM);
  amend.set_amended_code("I");
  amend.set_reason("Parent phoned: ill");
  if (auto s = ledger.AmendMark(kOfficer, amend); !s.ok()) return Check(s.status(), "amend");

  v1::RecordLetterRequest letter;
  letter.set_school_id("s1");
  letter.set_request_id("setup-letter");
  letter.set_pupil_id("p2");
  letter.set_letter_id("first-warning");
  letter.set_channel(v1::EMAIL);
  letter.set_sent_on("2025-09-15");
  letter.set_note("Attendance below 90%");
  if (auto s = ledger.RecordLetter(kOfficer, letter); !s.ok()) return Check(s.status(), "letter");

  v1::UpdatePupilRequest update;
  update.set_school_id("s1");
  update.set_request_id("setup-update");
  *update.mutable_pupil() = testing::Enrol("s1", "p3").pupil();
  update.mutable_pupil()->set_class_name("7B");
  update.mutable_pupil()->set_eal(true);
  update.set_effective_from("2025-09-15");
  if (auto s = ledger.UpdatePupil(kOfficer, update); !s.ok()) return Check(s.status(), "update");

  v1::RemoveFromRollRequest leave;
  leave.set_school_id("s1");
  leave.set_request_id("setup-leave");
  leave.set_pupil_id("p4");
  leave.set_last_day_on_roll("2025-09-30");
  leave.set_reason("Moved away");
  if (auto s = ledger.RemoveFromRoll(kOfficer, leave); !s.ok()) return Check(s.status(), "leave");

  if (auto s = ledger.SetSchoolSettings(kOfficer, testing::Settings("s2")); !s.ok()) {
    return Check(s.status(), "settings s2");
  }
  return absl::OkStatus();
}

FuzzLedger::FuzzLedger() {
  ledger::LedgerOptions options;
  options.data_dir = dir.Sub("db");
  options.sync = false;
  options.clock = ledger::Clock::Fixed(kNowUs);
  options.hot_from = ledger::AcademicYearStart(2024);
  absl::StatusOr<std::unique_ptr<ledger::Ledger>> opened = ledger::Ledger::Open(options);
  if (!opened.ok()) Fail("open: " + opened.status().ToString());
  ledger = std::move(*opened);
  if (absl::Status s = SetUpSchool(*ledger); !s.ok()) Fail("set-up: " + s.ToString());
}

FuzzLedger::~FuzzLedger() { ledger.reset(); }

std::vector<v1::EventEnvelope> AllEvents(const ledger::Ledger& ledger) {
  std::vector<v1::EventEnvelope> events;
  absl::Status s = ledger.ForEachEvent(1, [&](const v1::EventEnvelope& event) {
    events.push_back(event);
    return true;
  });
  if (!s.ok()) Fail("read events: " + s.ToString());
  return events;
}

}  // namespace attendance::fuzz
