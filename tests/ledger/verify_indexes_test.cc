// Index verification: the `marks` and `requests` families are checked
// against the log, and damage done behind the ledger's back -- a wrong
// value, a deleted or an extra key, a corrupted table block -- is named by
// family, key and positions.
#include <string>

#include <rocksdb/db.h>
#include <catch2/catch.hpp>

#include "ledger/ledger.h"
#include "raw_db.h"
#include "support/fixtures.h"

namespace attendance::testing {
namespace {

using Catch::Contains;

std::string Fixed64(std::uint64_t v) {
  std::string out;
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
  return out;
}

std::string Id(const std::string& id) { return std::string(1, static_cast<char>(id.size())) + id; }

// The layout of ledger/src/keys.h, written out so that the test does not
// trust the code it checks.
std::string MarkKey(const std::string& school, const std::string& date, v1::Session session,
                    const std::string& pupil) {
  const auto day = static_cast<std::uint32_t>(*ledger::ParseDate(date) + (1 << 30));
  std::string key = Id(school);
  for (int shift = 24; shift >= 0; shift -= 8) key.push_back(static_cast<char>(day >> shift));
  key.push_back(static_cast<char>(session));
  return key + Id(pupil);
}

std::string RequestKey(const std::string& school, const std::string& request_id) {
  return Id(school) + request_id;
}

// s1 with three pupils and marks; s2 through every command with request ids.
// Positions: 1-5 s1 setup, 6-8 s1's marks (r-1), 9.. s2.
void WriteHistory(ledger::Ledger& ledger) {
  v1::RecordMarksRequest marks;
  marks.set_school_id("s1");
  marks.set_request_id("r-1");
  *marks.add_marks() = MakeMark("p1", "2025-09-08", v1::AM, "/");
  *marks.add_marks() = MakeMark("p2", "2025-09-08", v1::AM, "N");
  *marks.add_marks() = MakeMark("p3", "2025-09-08", v1::AM, "/");
  REQUIRE(ledger.RecordMarks(kTeacher, marks).ok());
  RecordEveryCommand(ledger);
}

absl::Status VerifyAfter(LedgerFixture& f) {
  f.Reopen();
  REQUIRE(f.ledger->VerifyChain(1, 0).ok());  // the log itself is intact
  return f.ledger->VerifyIndexes().status();
}

TEST_CASE("a clean ledger's indexes verify, also after a reopen", "[ledger][verify]") {
  LedgerFixture f(3);
  WriteHistory(*f.ledger);
  auto report = f.ledger->VerifyIndexes();
  REQUIRE(report.ok());
  CHECK(report->events == f.ledger->LastPosition());
  CHECK(report->marks ==
        9);  // s1: three; s2: q1 AM (amended), q2 AM, q1 PM, q1 leave AM+PM, q1's import
  CHECK(report->requests == 17);  // r-1 and s2's sixteen commands
  f.Reopen();
  auto again = f.ledger->VerifyIndexes();
  REQUIRE(again.ok());
  CHECK(again->marks == 9);
  CHECK(again->files > 0);  // the reopen flushed the WAL into table files
}

TEST_CASE("a wrong value in the marks index is named by key and positions", "[ledger][verify]") {
  LedgerFixture f(3);
  WriteHistory(*f.ledger);
  const std::string path = f.dir.Sub("db");
  f.ledger.reset();
  // p2's mark is position 7, code N; say it was position 6, code /.
  WithRawDb(path, [](rocksdb::DB& db, RawFamilies& cf) {
    const std::string key = MarkKey("s1", "2025-09-08", v1::AM, "p2");
    std::string value;
    REQUIRE(db.Get(rocksdb::ReadOptions(), cf["marks"], key, &value).ok());
    REQUIRE(value == Fixed64(7) + "N");
    REQUIRE(db.Put(rocksdb::WriteOptions(), cf["marks"], key, Fixed64(6) + "/").ok());
  });
  absl::Status status = VerifyAfter(f);
  CHECK(status.code() == absl::StatusCode::kDataLoss);
  CHECK_THAT(std::string(status.message()),
             Contains("marks index: school \"s1\" 2025-09-08 AM pupil \"p2\": the index has "
                      "position 6 code \"/\", the log has position 7 code \"N\""));
}

TEST_CASE("an amendment the marks index missed is found", "[ledger][verify]") {
  LedgerFixture f(3);
  WriteHistory(*f.ledger);
  const std::string path = f.dir.Sub("db");
  f.ledger.reset();
  // q1's AM mark was N at position 13 (after s2's setup at 9..12), amended
  // to I at 16: put the index back to the original mark.
  WithRawDb(path, [](rocksdb::DB& db, RawFamilies& cf) {
    const std::string key = MarkKey("s2", "2025-09-08", v1::AM, "q1");
    std::string value;
    REQUIRE(db.Get(rocksdb::ReadOptions(), cf["marks"], key, &value).ok());
    REQUIRE(value == Fixed64(16) + "I");
    REQUIRE(db.Put(rocksdb::WriteOptions(), cf["marks"], key, Fixed64(13) + "N").ok());
  });
  absl::Status status = VerifyAfter(f);
  CHECK(status.code() == absl::StatusCode::kDataLoss);
  CHECK_THAT(std::string(status.message()), Contains("pupil \"q1\""));
  CHECK_THAT(std::string(status.message()), Contains("the log has position 16 code \"I\""));
}

TEST_CASE("a deleted or an extra marks key is named", "[ledger][verify]") {
  LedgerFixture f(3);
  WriteHistory(*f.ledger);
  const std::string path = f.dir.Sub("db");
  f.ledger.reset();
  SECTION("deleted") {
    WithRawDb(path, [](rocksdb::DB& db, RawFamilies& cf) {
      REQUIRE(
          db.Delete(rocksdb::WriteOptions(), cf["marks"], MarkKey("s1", "2025-09-08", v1::AM, "p3"))
              .ok());
    });
    absl::Status status = VerifyAfter(f);
    CHECK(status.code() == absl::StatusCode::kDataLoss);
    CHECK_THAT(std::string(status.message()),
               Contains("marks index: school \"s1\" 2025-09-08 AM pupil \"p3\": missing from the "
                        "index; the log's mark is position 8 code \"/\""));
  }
  SECTION("extra") {
    WithRawDb(path, [](rocksdb::DB& db, RawFamilies& cf) {
      REQUIRE(db.Put(rocksdb::WriteOptions(), cf["marks"],
                     MarkKey("s1", "2025-09-09", v1::PM, "p1"), Fixed64(3) + "/")
                  .ok());
    });
    absl::Status status = VerifyAfter(f);
    CHECK(status.code() == absl::StatusCode::kDataLoss);
    CHECK_THAT(std::string(status.message()),
               Contains("school \"s1\" 2025-09-09 PM pupil \"p1\": the index has position 3 code "
                        "\"/\", but no event in the log marks it"));
  }
}

TEST_CASE("request records are checked against the events they name", "[ledger][verify]") {
  LedgerFixture f(3);
  WriteHistory(*f.ledger);
  const std::string path = f.dir.Sub("db");
  f.ledger.reset();
  std::string expected;
  SECTION("a deleted record: a retry would write the events again") {
    WithRawDb(path, [](rocksdb::DB& db, RawFamilies& cf) {
      REQUIRE(db.Delete(rocksdb::WriteOptions(), cf["requests"], RequestKey("s1", "r-1")).ok());
    });
    expected =
        "requests index: school \"s1\" request id \"r-1\": no record, but positions 6..8 carry "
        "this request id";
  }
  SECTION("a record naming other positions") {
    WithRawDb(path, [](rocksdb::DB& db, RawFamilies& cf) {
      std::string value;
      const std::string key = RequestKey("s2", "letter-1");
      REQUIRE(db.Get(rocksdb::ReadOptions(), cf["requests"], key, &value).ok());
      v1::WriteResponse response;
      REQUIRE(response.ParseFromString(value.substr(33)));
      REQUIRE(response.position() == 17);
      response.set_position(5);
      value = value.substr(0, 33) + response.SerializeAsString();
      REQUIRE(db.Put(rocksdb::WriteOptions(), cf["requests"], key, value).ok());
    });
    expected =
        "requests index: school \"s2\" request id \"letter-1\": the record names position 5, the "
        "events carrying this request id are at position 17";
  }
  SECTION("a record for events that do not exist") {
    WithRawDb(path, [](rocksdb::DB& db, RawFamilies& cf) {
      std::string value;
      REQUIRE(db.Get(rocksdb::ReadOptions(), cf["requests"], RequestKey("s1", "r-1"), &value).ok());
      REQUIRE(db.Put(rocksdb::WriteOptions(), cf["requests"], RequestKey("s1", "r-0"), value).ok());
    });
    expected =
        "requests index: school \"s1\" request id \"r-0\": the record names positions 6..8, but "
        "no event carries this request id";
  }
  SECTION("a record that does not decode") {
    WithRawDb(path, [](rocksdb::DB& db, RawFamilies& cf) {
      REQUIRE(db.Put(rocksdb::WriteOptions(), cf["requests"], RequestKey("s2", "amend-1"),
                     std::string(32, 'x') + "Z")
                  .ok());
    });
    expected =
        "requests index: school \"s2\" request id \"amend-1\": the stored response does not "
        "decode";
  }
  absl::Status status = VerifyAfter(f);
  CHECK(status.code() == absl::StatusCode::kDataLoss);
  CHECK_THAT(std::string(status.message()), Contains(expected));
}

TEST_CASE("a corrupted block in an index's table file is DATA_LOSS naming the index",
          "[ledger][verify]") {
  LedgerFixture f(3);
  WriteHistory(*f.ledger);
  const std::string path = f.dir.Sub("db");
  f.ledger.reset();
  const std::string family = GENERATE(std::string("marks"), std::string("requests"));
  std::string table;
  WithRawDb(path, [&](rocksdb::DB& db, RawFamilies& cf) {
    REQUIRE(db.Flush(rocksdb::FlushOptions(), cf[family]).ok());
    std::vector<rocksdb::LiveFileMetaData> files;
    db.GetLiveFilesMetaData(&files);
    for (const auto& file : files) {
      if (file.column_family_name == family) table = file.db_path + file.name;
    }
  });
  REQUIRE_FALSE(table.empty());
  FlipByte(table, 20);  // inside the first data block
  f.Reopen();           // start-up reads only the log
  CHECK(f.ledger->VerifyChain(1, 0).ok());
  absl::Status status = f.ledger->VerifyIndexes().status();
  CHECK(status.code() == absl::StatusCode::kDataLoss);
  CHECK_THAT(std::string(status.message()), Contains(family + " index: read"));
  CHECK_THAT(std::string(status.message()), Contains("Corruption"));
}

TEST_CASE("the streams family of earlier versions is dropped at open", "[ledger][verify]") {
  LedgerFixture f(2);
  const std::string path = f.dir.Sub("db");
  f.ledger.reset();
  WithRawDb(path, [](rocksdb::DB& db, RawFamilies&) {
    rocksdb::ColumnFamilyHandle* streams = nullptr;
    REQUIRE(db.CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "streams", &streams).ok());
    REQUIRE(db.Put(rocksdb::WriteOptions(), streams, "old", "entry").ok());
    db.DestroyColumnFamilyHandle(streams);
  });
  // default, events, marks, requests, checkpoints, read_models, pupil_keys, streams
  REQUIRE(ColumnFamilyNames(path).size() == 8);
  ledger::LedgerOptions read_only;
  read_only.data_dir = path;
  read_only.read_only = true;
  REQUIRE(ledger::Ledger::Open(read_only).ok());  // leaves it alone
  f.Reopen();
  CHECK(f.ledger->VerifyIndexes().ok());
  f.ledger.reset();
  auto names = ColumnFamilyNames(path);
  CHECK(std::find(names.begin(), names.end(), "streams") == names.end());
  CHECK(names.size() == 7);
}

}  // namespace
}  // namespace attendance::testing
