#pragma once

// Test access to a ledger's RocksDB behind the ledger's back, and a history
// that uses every command with a request id.
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <google/protobuf/text_format.h>
#include <rocksdb/db.h>
#include <catch2/catch.hpp>

#include "ledger/ledger.h"
#include "support/fixtures.h"

namespace attendance::testing {

using RawFamilies = std::map<std::string, rocksdb::ColumnFamilyHandle*>;

// Opens the (closed) ledger's RocksDB directly and runs `fn(db, families)`.
template <typename Fn>
void WithRawDb(const std::string& path, Fn fn) {
  std::vector<std::string> names;
  REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  REQUIRE(rocksdb::DB::Open(rocksdb::DBOptions(), path, descriptors, &handles, &db).ok());
  RawFamilies families;
  for (std::size_t i = 0; i < names.size(); ++i) families[names[i]] = handles[i];
  fn(*db, families);
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  delete db;
}

// Every event's hash, in log order: two ledgers hold the same history if
// these are equal.
inline std::vector<std::string> Hashes(const ledger::Ledger& ledger) {
  std::vector<std::string> hashes;
  REQUIRE(ledger
              .ForEachEvent(1,
                            [&](const v1::EventEnvelope& e) {
                              hashes.push_back(e.hash());
                              return true;
                            })
              .ok());
  return hashes;
}

inline std::vector<std::string> ColumnFamilyNames(const std::string& path) {
  std::vector<std::string> names;
  REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  return names;
}

// Every regular file under `dir` with its bytes.
inline std::map<std::string, std::string> DirectoryContents(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    files[entry.path().lexically_relative(dir).string()] =
        std::string(std::istreambuf_iterator<char>(in), {});
  }
  return files;
}

// XORs one byte of `path` at `offset` with 0xff.
inline void FlipByte(const std::string& path, std::uintmax_t offset) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(file.good());
  file.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  file.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0xff);
  file.seekp(static_cast<std::streamoff>(offset));
  file.write(&byte, 1);
  REQUIRE(file.good());
}

inline void Check(const absl::Status& s) { REQUIRE(s.ok()); }

// School "s2" made through every command, each with a request id: settings,
// calendar, two enrolments, marks, an amendment, a letter, an update, a
// removal from roll, an escalation policy, a recorded action, carers, a
// leave request approved (with its two C marks) and two imports of the same
// history (the second writes no events).
inline void RecordEveryCommand(ledger::Ledger& ledger) {
  auto settings = Settings("s2");
  settings.set_request_id("settings-1");
  Check(ledger.SetSchoolSettings(kOfficer, settings).status());
  auto calendar = Calendar2025("s2");
  calendar.set_request_id("calendar-1");
  Check(ledger.SetSchoolCalendar(kOfficer, calendar).status());
  for (const char* pupil : {"q1", "q2"}) {
    auto enrol = Enrol("s2", pupil);
    enrol.set_request_id(std::string("enrol-") + pupil);
    Check(ledger.EnrolPupil(kOfficer, enrol).status());
  }
  v1::RecordMarksRequest marks;
  marks.set_school_id("s2");
  marks.set_request_id("marks-1");
  *marks.add_marks() = MakeMark("q1", "2025-09-08", v1::AM, "N");
  *marks.add_marks() = MakeMark("q2", "2025-09-08", v1::AM, "/");
  *marks.add_marks() = MakeMark("q1", "2025-09-08", v1::PM, "/");
  Check(ledger.RecordMarks(kTeacher, marks).status());
  v1::AmendMarkRequest amend;
  amend.set_school_id("s2");
  amend.set_request_id("amend-1");
  amend.set_pupil_id("q1");
  amend.set_date("2025-09-08");
  amend.set_session(v1::AM);
  amend.set_amended_code("I");
  amend.set_reason("parent phoned: illness");
  Check(ledger.AmendMark(kOfficer, amend).status());
  v1::RecordLetterRequest letter;
  letter.set_school_id("s2");
  letter.set_request_id("letter-1");
  letter.set_pupil_id("q1");
  letter.set_letter_id("letter_1");
  letter.set_channel(v1::POST);
  letter.set_sent_on("2025-09-09");
  Check(ledger.RecordLetter(kOfficer, letter).status());
  v1::UpdatePupilRequest update;
  update.set_school_id("s2");
  update.set_request_id("update-1");
  *update.mutable_pupil() = Enrol("s2", "q2").pupil();
  update.mutable_pupil()->set_class_name("7B");
  update.set_effective_from("2025-09-10");
  Check(ledger.UpdatePupil(kOfficer, update).status());
  v1::RemoveFromRollRequest leave;
  leave.set_school_id("s2");
  leave.set_request_id("leave-1");
  leave.set_pupil_id("q2");
  leave.set_last_day_on_roll("2025-09-30");
  leave.set_reason("moved school");
  Check(ledger.RemoveFromRoll(kOfficer, leave).status());
  v1::SetEscalationPolicyRequest policy;
  policy.set_school_id("s2");
  policy.set_request_id("policy-1");
  REQUIRE(google::protobuf::TextFormat::ParseFromString(
      R"(policy_id: "s2-bands" version: "1"
         band_sets { band_set_id: "bands" window { kind: POLICY_YEAR_TO_DATE }
           bands { band_id: "all" lower_basis_points: 0 lower_inclusive: true
                   upper_basis_points: 10000 upper_inclusive: true } })",
      policy.mutable_policy()));
  Check(ledger.SetEscalationPolicy(kOfficer, policy).status());
  v1::RecordActionRequest call;
  call.set_school_id("s2");
  call.set_request_id("action-1");
  call.set_pupil_id("q1");
  call.set_action_id("call-1");
  call.set_kind(v1::CALL_MADE);
  call.set_happened_on("2025-09-09");
  call.set_outcome("parent phoned back");
  Check(ledger.RecordAction(kOfficer, call).status());
  // q1's mother asks for a day's leave; approved, it pre-records two C marks.
  v1::UpdatePupilRequest carers;
  carers.set_school_id("s2");
  carers.set_request_id("carers-1");
  *carers.mutable_pupil() = Enrol("s2", "q1").pupil();
  v1::Carer* mother = carers.mutable_pupil()->add_carers();
  mother->set_carer_id("q1-mother");
  mother->set_family_name("Family");
  mother->set_relationship(v1::MOTHER);
  carers.set_effective_from("2025-09-01");
  Check(ledger.UpdatePupil(kOfficer, carers).status());
  v1::RequestLeaveRequest request_leave;
  request_leave.set_school_id("s2");
  request_leave.set_request_id("request-leave-1");
  request_leave.set_pupil_id("q1");
  request_leave.set_leave_id("leave-1");
  request_leave.set_first_date("2025-10-20");
  request_leave.set_first_session(v1::AM);
  request_leave.set_last_date("2025-10-20");
  request_leave.set_last_session(v1::PM);
  request_leave.set_reason("family funeral");
  request_leave.set_requested_by("q1-mother");
  Check(ledger.RequestLeave(kOfficer, request_leave).status());
  v1::DecideLeaveRequest decide_leave;
  decide_leave.set_school_id("s2");
  decide_leave.set_request_id("decide-leave-1");
  decide_leave.set_pupil_id("q1");
  decide_leave.set_leave_id("leave-1");
  decide_leave.set_approved(true);
  decide_leave.set_reason("exceptional circumstances");
  Check(ledger.DecideLeave(kOfficer, decide_leave).status());
  // An imported mark with its amendment (1757404800000000 is 2025-09-09
  // 09:00 BST), then the same import again, which writes nothing but its
  // request record.
  v1::ImportHistoryRequest import;
  import.set_school_id("s2");
  import.set_request_id("import-1");
  import.set_source("SIMS");
  v1::ImportedMark* imported = import.add_marks();
  imported->set_pupil_id("q1");
  imported->set_date("2025-09-09");
  imported->set_session(v1::AM);
  imported->set_code("N");
  imported->set_taken_at_us(1'757'404'800'000'000);
  v1::ImportedAmendment* amendment = imported->add_amendments();
  amendment->set_amended_code("M");
  amendment->set_reason("dentist's letter");
  amendment->set_amended_at_us(1'757'404'800'000'000 + 86'400'000'000);
  Check(ledger.ImportHistory(kOfficer, import).status());
  import.set_request_id("import-2");
  Check(ledger.ImportHistory(kOfficer, import).status());
}

}  // namespace attendance::testing
