// Retention by crypto-shredding (ADR 0003) on a real ledger, read-model
// host and gRPC server: personal fields are stored sealed, read back while
// the pupil's key exists, and gone from reads, read models, checkpoints and
// the data directory's files once ErasePersonalData deleted the key; the
// chain still verifies and the figures do not change.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <rocksdb/db.h>
#include <catch2/catch.hpp>

#include "audit_fixture.h"
#include "projections/attendance_queries.h"
#include "projections/attendance_state.h"
#include "raw_db.h"
#include "services/access.h"

namespace attendance::testing {
namespace {

// 2032-01-05 12:00 UTC: past six years after the leaver's last day.
constexpr std::int64_t k2032 = 1'957'435'200'000'000;
const ledger::Principal kAdmin{"Ms A. Admin", "admin"};

// Words that exist only in the personal fields of p1's events.
const std::vector<std::string> kPersonal = {"Zebedee",       "Quixote",       "UPN-A123",
                                            "mum phoned",    "dentist visit", "Lancashire",
                                            "second warning"};

bool ContainsAny(std::string_view bytes, const std::vector<std::string>& words) {
  for (const std::string& word : words) {
    if (bytes.find(word) != std::string_view::npos) return true;
  }
  return false;
}

// p1 gets personal data in every sealed field kind, then leaves the roll.
ledger::Position MakeLeaver(LedgerFixture& f) {
  v1::UpdatePupilRequest update;
  update.set_school_id("s1");
  *update.mutable_pupil() = Enrol("s1", "p1").pupil();
  update.mutable_pupil()->set_given_name("Zebedee");
  update.mutable_pupil()->set_family_name("Quixote-Marsh");
  update.mutable_pupil()->set_school_reference("UPN-A123");
  update.set_effective_from("2025-09-02");
  REQUIRE(f.ledger->UpdatePupil(kOfficer, update).ok());
  v1::RecordMarksRequest marks;
  marks.set_school_id("s1");
  marks.set_request_id("marks-1");
  *marks.add_marks() = MakeMark("p1", "2025-10-08", v1::AM, "N");
  marks.mutable_marks(0)->set_comment("mum phoned at 08:40");
  *marks.add_marks() = MakeMark("p1", "2025-10-08", v1::PM, "/");
  *marks.add_marks() = MakeMark("p2", "2025-10-08", v1::AM, "/");
  *marks.add_marks() = MakeMark("p2", "2025-10-08", v1::PM, "U");
  REQUIRE(f.ledger->RecordMarks(kOfficer, marks).ok());
  REQUIRE(
      f.ledger->AmendMark(kOfficer, Amend("p1", "2025-10-08", v1::AM, "M", "dentist visit, card"))
          .ok());
  v1::RecordLetterRequest letter;
  letter.set_school_id("s1");
  letter.set_pupil_id("p1");
  letter.set_letter_id("letter_1");
  letter.set_channel(v1::POST);
  letter.set_sent_on("2025-10-08");
  letter.set_note("second warning to the family");
  REQUIRE(f.ledger->RecordLetter(kOfficer, letter).ok());
  v1::RemoveFromRollRequest leave;
  leave.set_school_id("s1");
  leave.set_pupil_id("p1");
  leave.set_last_day_on_roll("2025-10-09");
  leave.set_reason("moved to Lancashire");
  auto left = f.ledger->RemoveFromRoll(kOfficer, leave);
  REQUIRE(left.ok());
  return left->position();
}

v1::ErasePersonalDataRequest Erasure(const std::string& pupil, const std::string& request_id) {
  v1::ErasePersonalDataRequest request;
  request.set_school_id("s1");
  request.set_request_id(request_id);
  request.set_pupil_id(pupil);
  request.set_reason("retention period ended");
  request.set_authorised_by("Mr D. P. Officer");
  return request;
}

// Every event as a reader gets it, serialised.
std::string AllEvents(const ledger::Ledger& ledger) {
  std::string all;
  REQUIRE(ledger
              .ForEachEvent(1,
                            [&](const v1::EventEnvelope& e) {
                              all += e.SerializeAsString();
                              return true;
                            })
              .ok());
  return all;
}

// The pupils' figures for autumn 2025 (the years kept), from a fold of the log.
std::string Figures(const ledger::Ledger& ledger, std::string* details = nullptr) {
  projections::AttendanceState state;
  REQUIRE(ledger
              .ForEachEvent(1,
                            [&](const v1::EventEnvelope& e) {
                              state.Apply(e);
                              return true;
                            })
              .ok());
  std::string figures;
  for (const char* pupil : {"p1", "p2"}) {
    v1::GetPupilAttendanceRequest request;
    request.set_school_id("s1");
    request.set_pupil_id(pupil);
    request.set_as_of("2025-10-31");
    auto got = projections::QueryPupilAttendance(state, request, *ledger::ParseDate("2025-10-31"));
    REQUIRE(got.ok());
    for (const auto& window : got->windows()) figures += window.SerializeAsString();
    if (details != nullptr) *details += got->pupil().SerializeAsString();
  }
  if (details != nullptr) *details += state.Encode();
  return figures;
}

// Every value in every column family, concatenated (the ledger closed).
std::map<std::string, std::string> RawFamiliesContents(const std::string& path) {
  std::map<std::string, std::string> contents;
  WithRawDb(path, [&](rocksdb::DB& db, RawFamilies& families) {
    for (auto& [name, handle] : families) {
      std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), handle));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        contents[name] += it->key().ToString() + it->value().ToString();
      }
    }
  });
  return contents;
}

std::vector<v1::TimelineEntry> Timeline(AuditFixture& f, ledger::Position min_position) {
  v1::GetPupilTimelineRequest request;
  request.set_school_id("s1");
  request.set_pupil_id("p1");
  request.set_min_position(min_position);
  auto context = f.As("auditor");
  auto reader = f.stub->GetPupilTimeline(context.get(), request);
  std::vector<v1::TimelineEntry> out;
  v1::PupilTimelinePage page;
  while (reader->Read(&page)) out.insert(out.end(), page.entries().begin(), page.entries().end());
  REQUIRE(reader->Finish().ok());
  return out;
}

v1::MarkHistory History(AuditFixture& f, ledger::Position min_position) {
  v1::GetMarkHistoryRequest request;
  request.set_school_id("s1");
  request.set_pupil_id("p1");
  request.set_date("2025-10-08");
  request.set_session(v1::AM);
  request.set_min_position(min_position);
  auto context = f.As("auditor");
  v1::MarkHistory history;
  REQUIRE(f.stub->GetMarkHistory(context.get(), request, &history).ok());
  return history;
}

TEST_CASE("personal fields are stored sealed and erased by deleting the pupil's key",
          "[retention]") {
  AuditFixture f(2);
  const std::string path = f.dir.Sub("db");
  const ledger::Position left = MakeLeaver(f);

  // While the key exists, readers and read models get the fields back.
  CHECK(ContainsAny(AllEvents(*f.ledger), {"Zebedee"}));
  CHECK(ContainsAny(AllEvents(*f.ledger), {"mum phoned"}));
  CHECK(History(f, left).entries(1).reason() == "dentist visit, card");
  std::string timeline_before;
  for (const auto& entry : Timeline(f, left)) timeline_before += entry.SerializeAsString();
  CHECK(ContainsAny(timeline_before, {"UPN-A123"}));
  CHECK(ContainsAny(timeline_before, {"second warning"}));
  std::string details_before;
  const std::string figures_before = Figures(*f.ledger, &details_before);
  CHECK(ContainsAny(details_before, {"Zebedee"}));

  // The log, the marks and the request log hold none of it; the read
  // models do (so the checks after the erasure can fail).
  f.Stop();
  f.ledger.reset();
  std::string key_before;
  {
    auto raw = RawFamiliesContents(path);
    CHECK_FALSE(ContainsAny(raw["events"], kPersonal));
    CHECK_FALSE(ContainsAny(raw["marks"], kPersonal));
    CHECK_FALSE(ContainsAny(raw["requests"], kPersonal));
    CHECK(ContainsAny(raw["read_models"], {"Zebedee"}));
    WithRawDb(path, [&](rocksdb::DB& db, RawFamilies& families) {
      REQUIRE(db.Get(rocksdb::ReadOptions(), families.at("pupil_keys"),
                     std::string("\x02s1\x02p1", 6), &key_before)
                  .ok());
    });
    REQUIRE(key_before.size() == 32);
  }
  f.Reopen();
  f.Start();

  // Too early: FAILED_PRECONDITION naming the date, and nothing written.
  f.now_us = k2032 - 3 * 365LL * 86'400'000'000;
  const ledger::Position head = f.ledger->LastPosition();
  auto early = f.ledger->ErasePersonalData(kAdmin, Erasure("p1", "erase-early"));
  REQUIRE(early.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(early.status().message()), Catch::Contains("2031-10-09"));
  auto on_roll = f.ledger->ErasePersonalData(kAdmin, Erasure("p2", "erase-p2"));
  CHECK(on_roll.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(f.ledger->LastPosition() == head);

  // Past the end: the erasure is an event, and the key goes.
  f.now_us = k2032;
  auto erased = f.ledger->ErasePersonalData(kAdmin, Erasure("p1", "erase-1"));
  REQUIRE(erased.ok());
  CHECK(erased->position() == head + 1);
  // Idempotent: again (another request id) answers the same position.
  auto again = f.ledger->ErasePersonalData(kAdmin, Erasure("p1", "erase-2"));
  REQUIRE(again.ok());
  CHECK(again->position() == erased->position());
  CHECK(f.ledger->LastPosition() == erased->position());
  // The pupil's stream is closed.
  v1::UpdatePupilRequest update;
  update.set_school_id("s1");
  *update.mutable_pupil() = Enrol("s1", "p1").pupil();
  update.set_effective_from("2031-12-01");
  CHECK(f.ledger->UpdatePupil(kOfficer, update).status().code() ==
        absl::StatusCode::kFailedPrecondition);

  // Reads: the marks stay, the personal fields are gone and flagged.
  CHECK_FALSE(ContainsAny(AllEvents(*f.ledger), kPersonal));
  int flagged = 0;
  REQUIRE(f.ledger
              ->ForEachEvent(1,
                             [&](const v1::EventEnvelope& e) {
                               flagged += e.personal_erased() ? 1 : 0;
                               if (e.has_mark_amended()) {
                                 CHECK(e.mark_amended().amended_code() == "M");
                               }
                               return true;
                             })
              .ok());
  // The enrolment, the update, the commented mark, the amendment, the
  // letter and the leaving.
  CHECK(flagged == 6);
  CHECK(f.ledger->VerifyChain(1, 0).ok());
  CHECK(f.ledger->VerifyIndexes().ok());
  std::string details_after;
  CHECK(Figures(*f.ledger, &details_after) == figures_before);
  CHECK_FALSE(ContainsAny(details_after, kPersonal));

  // Read models: the audit trail keeps the codes, not the words.
  const v1::MarkHistory history = History(f, erased->position());
  REQUIRE(history.entries_size() == 2);
  CHECK(history.entries(1).code() == "M");
  CHECK(history.entries(1).reason().empty());
  std::string timeline_after;
  for (const auto& entry : Timeline(f, erased->position())) {
    timeline_after += entry.SerializeAsString();
  }
  CHECK_FALSE(ContainsAny(timeline_after, kPersonal));

  // After a restart: the read models' keyed state and checkpoints hold
  // none of it, the key is gone, and no file of the data directory holds
  // the key's bytes (flushed and compacted away).
  f.Stop();
  f.ledger.reset();
  {
    auto raw = RawFamiliesContents(path);
    CHECK_FALSE(ContainsAny(raw["read_models"], kPersonal));
    CHECK_FALSE(ContainsAny(raw["checkpoints"], kPersonal));
    CHECK(raw["pupil_keys"].find("p1") == std::string::npos);
    CHECK(raw["pupil_keys"].find("p2") != std::string::npos);
  }
  for (const auto& file : std::filesystem::recursive_directory_iterator(path)) {
    if (!file.is_regular_file()) continue;
    std::ifstream in(file.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO(file.path().string());
    CHECK(bytes.find(key_before) == std::string::npos);
  }
  f.Reopen();
  CHECK_FALSE(ContainsAny(AllEvents(*f.ledger), kPersonal));
  CHECK(f.ledger->VerifyChain(1, 0).ok());
  CHECK(Figures(*f.ledger) == figures_before);
  f.Start();
  CHECK_FALSE(ContainsAny(History(f, erased->position()).SerializeAsString(), kPersonal));
}

TEST_CASE("sealed bytes moved to another event do not open", "[retention]") {
  LedgerFixture f(1);
  v1::UpdatePupilRequest update;
  update.set_school_id("s1");
  *update.mutable_pupil() = Enrol("s1", "p1").pupil();
  update.mutable_pupil()->set_given_name("Zebedee");
  update.set_effective_from("2025-09-02");
  auto updated = f.ledger->UpdatePupil(kOfficer, update);
  REQUIRE(updated.ok());
  const std::string path = f.dir.Sub("db");
  f.ledger.reset();
  // Copy the enrolment's sealed bytes onto the update, behind the ledger.
  WithRawDb(path, [&](rocksdb::DB& db, RawFamilies& families) {
    auto* events = families.at("events");
    auto read = [&](ledger::Position p) {
      std::string key, value;
      for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>(p >> shift));
      REQUIRE(db.Get(rocksdb::ReadOptions(), events, key, &value).ok());
      v1::EventEnvelope e;
      REQUIRE(e.ParseFromString(value.substr(32)));
      return std::make_tuple(key, value.substr(0, 32), e);
    };
    auto [enrol_key, enrol_hash, enrol] = read(updated->position() - 1);
    auto [update_key, update_hash, changed] = read(updated->position());
    REQUIRE_FALSE(enrol.sealed_personal().empty());
    changed.set_sealed_personal(enrol.sealed_personal());
    REQUIRE(db.Put(rocksdb::WriteOptions(), events, update_key,
                   update_hash + changed.SerializeAsString())
                .ok());
  });
  f.Reopen();
  const absl::Status read =
      f.ledger->ForEachEvent(1, [](const v1::EventEnvelope&) { return true; });
  CHECK(read.code() == absl::StatusCode::kDataLoss);
  CHECK_THAT(std::string(read.message()), Catch::Contains("sealed personal data"));
}

TEST_CASE("erasure is for admins only", "[retention]") {
  services::Caller officer{"officer", services::Role::kAttendanceOfficer, false, {"s1"}, true};
  services::Caller admin{"admin", services::Role::kAdmin, true, {}, true};
  CHECK(services::Authorize(officer, services::Action::kErasePersonalData, "s1").code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(services::Authorize(admin, services::Action::kErasePersonalData, "s1").ok());
}

}  // namespace
}  // namespace attendance::testing
