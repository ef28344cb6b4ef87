// Tamper evidence: a byte changed or an event removed behind the ledger's
// back is detected, by position.
#include <string>
#include <vector>

#include <rocksdb/db.h>
#include <catch2/catch.hpp>

#include "ledger/ledger.h"
#include "raw_db.h"
#include "support/fixtures.h"

namespace attendance::testing {
namespace {

constexpr std::size_t kHashBytes = 32;  // the chain hash before the stored envelope

// Runs `fn` on the events column family of the closed ledger's RocksDB,
// bypassing the ledger.
template <typename Fn>
void WithRawEvents(const std::string& path, Fn fn) {
  WithRawDb(path, [&](rocksdb::DB& db, RawFamilies& families) {
    REQUIRE(families.count("events") == 1);
    fn(db, families.at("events"));
  });
}

std::string Key(std::uint64_t position) {
  std::string key;
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>(position >> shift));
  return key;
}

TEST_CASE("the hash chain names a changed byte's position", "[ledger][chain]") {
  LedgerFixture f(3);
  REQUIRE(f.ledger->VerifyChain(1, 0).ok());
  const std::string path = f.dir.Sub("db");
  f.ledger.reset();

  // Position 4 is p2's enrolment (settings, calendar, p1, p2, ...): change
  // one letter of the class name, which keeps the event decodable (the
  // names are sealed, ADR 0003: not in the stored bytes in clear).
  WithRawEvents(path, [](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* events) {
    std::string value;
    REQUIRE(db.Get(rocksdb::ReadOptions(), events, Key(4), &value).ok());
    const auto at = value.find("7A", kHashBytes);
    REQUIRE(at != std::string::npos);
    value[at + 1] = 'B';
    REQUIRE(db.Put(rocksdb::WriteOptions(), events, Key(4), value).ok());
  });

  f.Reopen();
  absl::Status status = f.ledger->VerifyChain(1, 0);
  CHECK(status.code() == absl::StatusCode::kDataLoss);
  CHECK_THAT(std::string(status.message()), Catch::Contains("position 4"));
  CHECK(f.ledger->VerifyChain(1, 3).ok());
  CHECK(f.ledger->VerifyChain(5, 0).ok());  // 5 chains from the stored hash of 4
}

TEST_CASE("a removed event is reported as a gap", "[ledger][chain]") {
  LedgerFixture f(3);
  const std::string path = f.dir.Sub("db");
  f.ledger.reset();
  WithRawEvents(path, [](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* events) {
    REQUIRE(db.Delete(rocksdb::WriteOptions(), events, Key(3)).ok());
  });
  ledger::LedgerOptions options;
  options.data_dir = path;
  auto reopened = ledger::Ledger::Open(options);
  REQUIRE_FALSE(reopened.ok());
  CHECK(reopened.status().code() == absl::StatusCode::kDataLoss);
  CHECK_THAT(std::string(reopened.status().message()), Catch::Contains("position 3"));
}

}  // namespace
}  // namespace attendance::testing
