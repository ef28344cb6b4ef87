// Read-only open: a copy of a live directory opens without a writer, reads
// and verifies, refuses every write with FAILED_PRECONDITION and leaves the
// directory byte for byte as it was.
#include <filesystem>
#include <fstream>
#include <future>
#include <string>

#include <rocksdb/db.h>
#include <catch2/catch.hpp>

#include "ledger/ledger.h"
#include "raw_db.h"
#include "support/fixtures.h"

namespace attendance::testing {
namespace {

using Catch::Contains;

int ThreadCount() {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    (void)entry;
    ++count;
  }
  return count;
}

void CheckRefused(const absl::Status& s) {
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(s.message()), Contains("read-only"));
}

TEST_CASE("a copy of a live directory opens read-only, reads and verifies, writes nothing",
          "[ledger][read_only]") {
  LedgerFixture f(3);
  RecordEveryCommand(*f.ledger);
  REQUIRE(f.ledger->SaveCheckpoint("attendance", {5, "state"}).ok());
  // Copied while the ledger is open: the copy has a LOCK file and an
  // unflushed WAL, as a copy of a running server's directory would.
  const std::string copy = f.dir.Sub("copy");
  std::filesystem::copy(f.dir.Sub("db"), copy, std::filesystem::copy_options::recursive);
  const auto before = DirectoryContents(copy);

  ledger::LedgerOptions options;
  options.data_dir = copy;
  options.read_only = true;
  const int threads_before = ThreadCount();
  auto opened = ledger::Ledger::Open(options);
  REQUIRE(opened.ok());
  ledger::Ledger& ro = **opened;
  CHECK(ThreadCount() == threads_before);  // no writer, no committer

  CHECK(ro.LastPosition() == f.ledger->LastPosition());
  CHECK(Hashes(ro) == Hashes(*f.ledger));
  CHECK(ro.VerifyChain(1, 0).ok());
  auto verified = ro.VerifyIndexes();
  REQUIRE(verified.ok());
  CHECK(verified->requests == 16);
  auto checkpoint = ro.LoadCheckpoint("attendance");
  REQUIRE(checkpoint.ok());
  CHECK(checkpoint->state == "state");

  v1::RecordMarksRequest marks;
  marks.set_school_id("s1");
  marks.set_request_id("ro-1");
  *marks.add_marks() = MakeMark("p1", "2025-09-09", v1::AM, "/");
  CheckRefused(ro.RecordMarks(kTeacher, marks).status());
  std::promise<absl::Status> async;
  ro.RecordMarksAsync(kTeacher, marks, [&](absl::StatusOr<v1::RecordMarksResponse> r) {
    async.set_value(r.status());
  });
  CheckRefused(async.get_future().get());
  CheckRefused(ro.EnrolPupil(kOfficer, Enrol("s1", "p9")).status());
  CheckRefused(ro.SetSchoolSettings(kOfficer, Settings("s3")).status());
  CheckRefused(ro.SetSchoolCalendar(kOfficer, Calendar2025("s1")).status());
  v1::AmendMarkRequest amend;
  amend.set_school_id("s2");
  CheckRefused(ro.AmendMark(kOfficer, amend).status());
  CheckRefused(ro.RecordLetter(kOfficer, v1::RecordLetterRequest()).status());
  CheckRefused(ro.UpdatePupil(kOfficer, v1::UpdatePupilRequest()).status());
  CheckRefused(ro.RemoveFromRoll(kOfficer, v1::RemoveFromRollRequest()).status());
  CheckRefused(ro.SaveCheckpoint("attendance", {9, "other"}));
  CheckRefused(ro.CreateBackup(f.dir.Sub("backups")).status());
  CHECK(ro.LastPosition() == f.ledger->LastPosition());
  opened->reset();

  CHECK(DirectoryContents(copy) == before);
  CHECK_FALSE(std::filesystem::exists(f.dir.Sub("backups")));
}

TEST_CASE("read-only opens a ledger whose normal open is refused, to name the damage",
          "[ledger][read_only]") {
  LedgerFixture f(3);
  const std::string path = f.dir.Sub("db");
  f.ledger.reset();
  WithRawDb(path, [](rocksdb::DB& db, RawFamilies& cf) {
    std::string key(7, '\0');
    key.push_back('\3');
    REQUIRE(db.Delete(rocksdb::WriteOptions(), cf["events"], key).ok());
  });
  ledger::LedgerOptions options;
  options.data_dir = path;
  CHECK(ledger::Ledger::Open(options).status().code() == absl::StatusCode::kDataLoss);
  options.read_only = true;
  auto ro = ledger::Ledger::Open(options);
  REQUIRE(ro.ok());
  CHECK((*ro)->LastPosition() == 5);
  absl::Status status = (*ro)->VerifyChain(1, 0);
  CHECK(status.code() == absl::StatusCode::kDataLoss);
  CHECK_THAT(std::string(status.message()), Contains("position 3 is missing"));
}

TEST_CASE("read-only does not create a missing ledger", "[ledger][read_only]") {
  TempDir dir;
  ledger::LedgerOptions options;
  options.data_dir = dir.Sub("none");
  options.read_only = true;
  CHECK_FALSE(ledger::Ledger::Open(options).ok());
  CHECK_FALSE(std::filesystem::exists(dir.Sub("none")));
}

}  // namespace
}  // namespace attendance::testing
