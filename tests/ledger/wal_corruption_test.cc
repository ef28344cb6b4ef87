// No silent loss (issue 10, findings 2 and 7): a damaged WAL or a missing
// MANIFEST stops the ledger from opening with DATA_LOSS, instead of serving
// a shorter log that retries would then extend at new positions.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "ledger/ledger.h"
#include "support/fixtures.h"

namespace attendance::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kLetters = 200;

v1::RecordLetterRequest Letter(int i) {
  v1::RecordLetterRequest letter;
  letter.set_school_id("s1");
  letter.set_request_id("letter-request-" + std::to_string(i));
  letter.set_pupil_id("p" + std::to_string(1 + i % 3));
  letter.set_letter_id("letter_" + std::to_string(i));
  letter.set_channel(v1::POST);
  letter.set_sent_on("2025-09-09");
  return letter;
}

// Writes kLetters acknowledged letters, one commit each; returns the last
// acknowledged position.
ledger::Position WriteLetters(ledger::Ledger& ledger) {
  for (int i = 0; i < kLetters; ++i) {
    auto written = ledger.RecordLetter(kOfficer, Letter(i));
    REQUIRE(written.ok());
  }
  return ledger.LastPosition();
}

fs::path NewestWal(const fs::path& dir) {
  std::vector<fs::path> logs;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".log") logs.push_back(entry.path());
  }
  REQUIRE_FALSE(logs.empty());
  return *std::max_element(logs.begin(), logs.end());  // names are zero-padded numbers
}

absl::StatusOr<std::unique_ptr<ledger::Ledger>> OpenAt(const std::string& path) {
  ledger::LedgerOptions options;
  options.data_dir = path;
  options.clock = ledger::Clock::Fixed(1'760'000'000'000'000);
  options.hot_from = ledger::AcademicYearStart(2024);
  return ledger::Ledger::Open(options);
}

void FlipBytes(const fs::path& file, std::uintmax_t at, int count) {
  std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(io);
  for (int i = 0; i < count; ++i) {
    io.seekg(static_cast<std::streamoff>(at) + i);
    char c = 0;
    io.get(c);
    io.seekp(static_cast<std::streamoff>(at) + i);
    io.put(static_cast<char>(~c));
  }
}

std::string Text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_CASE("a flipped WAL record stops the ledger from opening with DATA_LOSS",
          "[ledger][storage]") {
  LedgerFixture f(3);
  const ledger::Position acknowledged = WriteLetters(*f.ledger);
  REQUIRE(acknowledged == 5 + kLetters);
  f.ledger.reset();
  const fs::path wal = NewestWal(f.dir.Sub("db"));
  const std::uintmax_t size = fs::file_size(wal);
  REQUIRE(size > 50'000);  // the letters are in this WAL, not yet in SSTs

  // 10% is what the issue reported; the others show the place does not matter.
  const auto percent = GENERATE(10, 50, 99);
  FlipBytes(wal, size * static_cast<std::uintmax_t>(percent) / 100, 8);

  for (int attempt = 0; attempt < 2; ++attempt) {  // a failed open changes nothing
    auto reopened = OpenAt(f.dir.Sub("db"));
    REQUIRE_FALSE(reopened.ok());
    CHECK(reopened.status().code() == absl::StatusCode::kDataLoss);
    const std::string message(reopened.status().message());
    CHECK_THAT(message, Catch::Contains(wal.filename().string()));
    CHECK_THAT(message, Catch::Contains("position " + std::to_string(acknowledged)));
    CHECK_THAT(message, Catch::Contains("backup"));
  }
}

TEST_CASE("a truncated WAL stops the ledger from opening with DATA_LOSS", "[ledger][storage]") {
  LedgerFixture f(3);
  const ledger::Position acknowledged = WriteLetters(*f.ledger);
  f.ledger.reset();
  const fs::path wal = NewestWal(f.dir.Sub("db"));
  // RocksDB cannot tell a truncated WAL from a torn tail: the head record can.
  fs::resize_file(wal, fs::file_size(wal) / 10);

  for (int attempt = 0; attempt < 2; ++attempt) {
    auto reopened = OpenAt(f.dir.Sub("db"));
    REQUIRE_FALSE(reopened.ok());
    CHECK(reopened.status().code() == absl::StatusCode::kDataLoss);
    const std::string message(reopened.status().message());
    CHECK_THAT(message, Catch::Contains("LEDGER-HEAD"));
    CHECK_THAT(message, Catch::Contains("records position " + std::to_string(acknowledged)));
    CHECK_THAT(message, Catch::Contains("backup"));
  }
}

TEST_CASE("a torn last record, as a crash leaves it, is dropped only if unacknowledged",
          "[ledger][storage]") {
  LedgerFixture f(3);
  const std::string head = f.dir.Sub("db") + "/LEDGER-HEAD";
  const ledger::Position before = WriteLetters(*f.ledger);
  f.ledger.reset();
  const std::string head_before = Text(head);  // exact after a clean shutdown
  f.Reopen();  // recovery moves the letters to an SST and starts a new WAL
  REQUIRE(f.ledger->RecordLetter(kOfficer, Letter(kLetters)).ok());
  f.ledger.reset();
  // Cut the new WAL's only record short, as a crash mid-write would.
  const fs::path wal = NewestWal(f.dir.Sub("db"));
  fs::resize_file(wal, fs::file_size(wal) - 10);

  SECTION("the head record had not reached it: the torn record is dropped") {
    // A crash between the write and its answer (or before the background
    // writer recorded it) leaves the head record behind the torn record.
    std::ofstream(head, std::ios::trunc) << head_before;
    auto reopened = OpenAt(f.dir.Sub("db"));
    REQUIRE(reopened.ok());
    CHECK((*reopened)->LastPosition() == before);
    CHECK((*reopened)->VerifyChain(1, 0).ok());
  }
  SECTION("the head record names it as acknowledged: DATA_LOSS") {
    auto reopened = OpenAt(f.dir.Sub("db"));
    REQUIRE_FALSE(reopened.ok());
    CHECK(reopened.status().code() == absl::StatusCode::kDataLoss);
    CHECK_THAT(std::string(reopened.status().message()),
               Catch::Contains("records position " + std::to_string(before + 1)));
  }
}

TEST_CASE("a normal reopen passes the head check", "[ledger][storage]") {
  LedgerFixture f(3);
  const ledger::Position acknowledged = WriteLetters(*f.ledger);
  f.Reopen();
  CHECK(f.ledger->LastPosition() == acknowledged);
  // A clean shutdown records the exact head.
  f.ledger.reset();
  CHECK_THAT(Text(f.dir.Sub("db") + "/LEDGER-HEAD"),
             Catch::Contains("position " + std::to_string(acknowledged) + "\n"));
  f.Reopen();
  CHECK(f.ledger->LastPosition() == acknowledged);
  CHECK(f.ledger->VerifyChain(1, 0).ok());
  // And the reopened ledger keeps accepting writes where it left off.
  auto more = f.ledger->RecordLetter(kOfficer, Letter(kLetters));
  REQUIRE(more.ok());
  CHECK(f.ledger->LastPosition() == acknowledged + 1);
}

TEST_CASE("a head record that lags the log is accepted but one from another log is not",
          "[ledger][storage]") {
  LedgerFixture f(3);
  const std::string head = f.dir.Sub("db") + "/LEDGER-HEAD";
  f.ledger.reset();  // the head record now names position 5 exactly
  const std::string at_five = Text(head);
  f.Reopen();
  WriteLetters(*f.ledger);
  const ledger::Position acknowledged = f.ledger->LastPosition();

  SECTION("an older head record of the same log, as a crash may leave it") {
    f.ledger.reset();
    std::ofstream(head, std::ios::trunc) << at_five;
    auto reopened = OpenAt(f.dir.Sub("db"));
    REQUIRE(reopened.ok());
    CHECK((*reopened)->LastPosition() == acknowledged);
  }
  SECTION("the head record of a different log at the same position") {
    LedgerFixture other(2);  // settings, calendar, p1, p2 and one letter: 5 events
    REQUIRE(other.ledger->RecordLetter(kOfficer, Letter(1)).ok());
    other.ledger.reset();
    f.ledger.reset();
    fs::copy_file(other.dir.Sub("db") + "/LEDGER-HEAD", head, fs::copy_options::overwrite_existing);
    auto reopened = OpenAt(f.dir.Sub("db"));
    REQUIRE_FALSE(reopened.ok());
    CHECK(reopened.status().code() == absl::StatusCode::kDataLoss);
    CHECK_THAT(std::string(reopened.status().message()), Catch::Contains("position 5"));
  }
  SECTION("a damaged head record") {
    f.ledger.reset();
    std::string text = Text(head);
    text[text.find("position ") + 9] ^= 1;
    std::ofstream(head, std::ios::trunc) << text;
    auto reopened = OpenAt(f.dir.Sub("db"));
    REQUIRE_FALSE(reopened.ok());
    CHECK(reopened.status().code() == absl::StatusCode::kDataLoss);
    CHECK_THAT(std::string(reopened.status().message()), Catch::Contains("LEDGER-HEAD"));
  }
}

TEST_CASE("CURRENT naming a missing MANIFEST is DATA_LOSS", "[ledger][storage]") {
  LedgerFixture f(3);
  f.ledger.reset();
  std::string manifest = Text(f.dir.Sub("db") + "/CURRENT");
  manifest.erase(manifest.find_last_not_of('\n') + 1);
  REQUIRE(manifest.rfind("MANIFEST-", 0) == 0);
  fs::remove(f.dir.Sub("db") + "/" + manifest);
  auto reopened = OpenAt(f.dir.Sub("db"));
  REQUIRE_FALSE(reopened.ok());
  CHECK(reopened.status().code() == absl::StatusCode::kDataLoss);
  CHECK_THAT(std::string(reopened.status().message()), Catch::Contains(manifest));
}

}  // namespace
}  // namespace attendance::testing
