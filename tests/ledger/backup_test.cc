// Backups: taken while several writers write, restored to a new directory,
// verified before they are installed; a damaged backup is refused.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <rocksdb/db.h>
#include <catch2/catch.hpp>

#include "ledger/backup.h"
#include "ledger/ledger.h"
#include "raw_db.h"
#include "support/fixtures.h"

namespace attendance::testing {
namespace {

using Catch::Contains;
namespace fs = std::filesystem;

// School days of Autumn 1 before the fixture's clock (2025-10-09), as
// (date, session) pairs a year-7 pupil can be marked for.
std::vector<std::pair<std::string, v1::Session>> Sessions() {
  std::vector<std::pair<std::string, v1::Session>> out;
  for (ledger::Day day = *ledger::ParseDate("2025-09-03"); day < *ledger::ParseDate("2025-10-09");
       ++day) {
    const std::string date = ledger::FormatDate(day);
    if (ledger::Weekday(day) >= 5 || date == "2025-09-19") continue;
    if (date != "2025-10-01") out.emplace_back(date, v1::AM);
    out.emplace_back(date, v1::PM);
  }
  return out;
}

void RecordSomeMarks(ledger::Ledger& ledger, const std::string& pupil, int sessions) {
  const auto all = Sessions();
  for (int i = 0; i < sessions; ++i) {
    v1::RecordMarksRequest request;
    request.set_school_id("s1");
    request.set_request_id(pupil + "-" + std::to_string(i));
    *request.add_marks() = MakeMark(pupil, all[i].first, all[i].second, "/");
    REQUIRE(ledger.RecordMarks(kTeacher, request).ok());
  }
}

TEST_CASE(
    "a backup taken while writers write restores a verified prefix holding every "
    "acknowledged write",
    "[ledger][backup]") {
  constexpr int kWriters = 4;
  constexpr int kPupilsPerWriter = 5;
  LedgerFixture f(kWriters * kPupilsPerWriter);
  const auto sessions = Sessions();

  std::mutex mu;
  std::vector<v1::RecordMarksRequest> acknowledged;
  std::vector<ledger::Position> acknowledged_at;
  std::atomic<bool> backup_done{false};
  std::atomic<int> submitted_after{0};
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> writers_done{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (const auto& [date, session] : sessions) {
        for (int p = 0; p < kPupilsPerWriter && !stop; ++p) {
          const std::string pupil = "p" + std::to_string(w * kPupilsPerWriter + p + 1);
          v1::RecordMarksRequest request;
          request.set_school_id("s1");
          request.set_request_id(pupil + "-" + date + "-" + std::to_string(session));
          *request.add_marks() = MakeMark(pupil, date, session, "/");
          const bool after = backup_done.load();
          auto result = f.ledger->RecordMarks(kTeacher, request);
          if (!result.ok()) {
            ++failures;
            return;
          }
          if (after) ++submitted_after;
          std::lock_guard lock(mu);
          acknowledged.push_back(request);
          acknowledged_at.push_back(result->last_position());
        }
      }
      ++writers_done;
    });
  }
  // Let the writers get going, then note what was acknowledged and back up.
  while (f.ledger->LastPosition() < 200 && failures == 0) std::this_thread::yield();
  std::vector<v1::RecordMarksRequest> before;
  ledger::Position before_max = 0;
  {
    std::lock_guard lock(mu);
    before = acknowledged;
    for (auto p : acknowledged_at) before_max = std::max(before_max, p);
  }
  const std::string backups = f.dir.Sub("backups");
  auto backup = f.ledger->CreateBackup(backups);
  backup_done = true;
  REQUIRE(backup.ok());
  // A write after the backup returned even if the writers finished first (a
  // slow backup on a loaded machine); without it this loop never ended.
  v1::RecordLetterRequest letter;
  letter.set_school_id("s1");
  letter.set_pupil_id("p1");
  letter.set_letter_id("letter_1");
  letter.set_channel(v1::POST);
  letter.set_sent_on("2025-10-08");
  REQUIRE(f.ledger->RecordLetter(kOfficer, letter).ok());
  while (submitted_after < 20 && failures == 0 && writers_done < kWriters) {
    std::this_thread::yield();
  }
  stop = true;
  for (auto& t : writers) t.join();
  REQUIRE(failures == 0);
  CHECK(backup->id == 1);
  CHECK(backup->acknowledged_before >= before_max);

  const std::string restored_dir = f.dir.Sub("restored");
  auto restored = ledger::RestoreBackup(backups, 0, restored_dir);
  REQUIRE(restored.ok());
  CHECK(restored->backup.id == 1);
  CHECK(restored->last_position >= before_max);
  // Writes submitted after the backup returned are not in it.
  CHECK(restored->last_position < f.ledger->LastPosition());
  CHECK(restored->verified.events == restored->last_position);

  ledger::LedgerOptions options;
  options.data_dir = restored_dir;
  options.clock = ledger::Clock::Fixed(1'760'000'000'000'000);
  options.hot_from = ledger::AcademicYearStart(2024);
  auto copy = ledger::Ledger::Open(options);
  REQUIRE(copy.ok());
  REQUIRE((*copy)->VerifyChain(1, 0).ok());
  REQUIRE((*copy)->VerifyIndexes().ok());
  // Exactly a prefix of the live log: the same events, hash for hash.
  const auto live = Hashes(*f.ledger);
  const auto prefix = Hashes(**copy);
  REQUIRE(prefix.size() == restored->last_position);
  CHECK(std::equal(prefix.begin(), prefix.end(), live.begin()));
  // Every write acknowledged before the backup began is there: its retry
  // is answered from the restored request log.
  for (const auto& request : before) {
    auto retry = (*copy)->RecordMarks(kTeacher, request);
    REQUIRE(retry.ok());
    CHECK(retry->replayed());
  }
}

TEST_CASE("backups are incremental, listed, restored by id and purged", "[ledger][backup]") {
  LedgerFixture f(2);
  const std::string backups = f.dir.Sub("backups");
  RecordSomeMarks(*f.ledger, "p1", 4);
  auto first = f.ledger->CreateBackup(backups);
  REQUIRE(first.ok());
  RecordSomeMarks(*f.ledger, "p2", 6);
  auto second = f.ledger->CreateBackup(backups);
  REQUIRE(second.ok());
  CHECK(first->acknowledged_before == 8);
  CHECK(second->acknowledged_before == 14);

  auto list = ledger::ListBackups(backups);
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].id == 1);
  CHECK((*list)[1].id == 2);
  CHECK(ledger::VerifyBackup(backups, 0).ok());
  CHECK(ledger::VerifyBackup(backups, 3).code() == absl::StatusCode::kNotFound);

  // An empty existing directory is a fine target.
  fs::create_directory(f.dir.Sub("one"));
  auto one = ledger::RestoreBackup(backups, 1, f.dir.Sub("one"));
  CHECK(ledger::RestoreBackup(backups, 2, f.dir.Sub("new/parent/two")).ok());
  REQUIRE(one.ok());
  CHECK(one->last_position == 8);

  REQUIRE(ledger::PurgeBackups(backups, 1).ok());
  list = ledger::ListBackups(backups);
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].id == 2);
  CHECK(ledger::RestoreBackup(backups, 1, f.dir.Sub("gone")).status().code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("a restore never overwrites a directory that holds something", "[ledger][backup]") {
  LedgerFixture f(2);
  const std::string backups = f.dir.Sub("backups");
  REQUIRE(f.ledger->CreateBackup(backups).ok());
  // The live ledger's own directory, for one.
  auto over_live = ledger::RestoreBackup(backups, 0, f.dir.Sub("db"));
  CHECK(over_live.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(over_live.status().message()), Contains("not an empty directory"));
  fs::create_directory(f.dir.Sub("busy"));
  std::ofstream(f.dir.Sub("busy/notes.txt")) << "keep me";
  CHECK(ledger::RestoreBackup(backups, 0, f.dir.Sub("busy")).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(DirectoryContents(f.dir.Sub("busy")).size() == 1);
  CHECK(f.ledger->VerifyIndexes().ok());
}

TEST_CASE("a damaged backup is refused at restore with DATA_LOSS", "[ledger][backup]") {
  LedgerFixture f(2);
  RecordSomeMarks(*f.ledger, "p1", 10);
  const std::string backups = f.dir.Sub("backups");
  REQUIRE(f.ledger->CreateBackup(backups).ok());
  // Flip one byte in the middle of the backup's largest data file.
  std::string largest;
  std::uintmax_t size = 0;
  for (const auto& entry : fs::recursive_directory_iterator(backups)) {
    if (!entry.is_regular_file() || entry.path().parent_path().filename() == "meta") continue;
    if (entry.file_size() > size) {
      size = entry.file_size();
      largest = entry.path().string();
    }
  }
  REQUIRE(size > 0);
  FlipByte(largest, size / 2);

  absl::Status verify = ledger::VerifyBackup(backups, 0);
  CHECK(verify.code() == absl::StatusCode::kDataLoss);
  auto restored = ledger::RestoreBackup(backups, 0, f.dir.Sub("restored"));
  CHECK(restored.status().code() == absl::StatusCode::kDataLoss);
  CHECK_THAT(std::string(restored.status().message()), Contains("does not verify"));
  CHECK_FALSE(fs::exists(f.dir.Sub("restored")));
  CHECK_FALSE(fs::exists(f.dir.Sub("restored.restoring")));
}

TEST_CASE("a backup of a ledger whose index is damaged is not installed", "[ledger][backup]") {
  LedgerFixture f(2);
  RecordSomeMarks(*f.ledger, "p1", 3);
  const std::string path = f.dir.Sub("db");
  f.ledger.reset();
  WithRawDb(path, [](rocksdb::DB& db, RawFamilies& cf) {
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), cf["marks"]));
    it->SeekToFirst();
    REQUIRE(it->Valid());
    REQUIRE(db.Delete(rocksdb::WriteOptions(), cf["marks"], it->key()).ok());
  });
  f.Reopen();
  const std::string backups = f.dir.Sub("backups");
  REQUIRE(f.ledger->CreateBackup(backups).ok());
  CHECK(ledger::VerifyBackup(backups, 0).ok());  // its files are as they were taken
  auto restored = ledger::RestoreBackup(backups, 0, f.dir.Sub("restored"));
  CHECK(restored.status().code() == absl::StatusCode::kDataLoss);
  CHECK_THAT(std::string(restored.status().message()), Contains("marks index"));
  CHECK_FALSE(fs::exists(f.dir.Sub("restored")));
}

}  // namespace
}  // namespace attendance::testing
