// Tampering with the stored log behind the ledger's back, through RocksDB:
// the Audit service's verification (services::VerifyLedgerRange, which
// VerifyLedger and ledger-verify run) names the flipped byte's position,
// the gap, and the position after an event rewritten with a fresh hash.
#include <openssl/evp.h>

#include <memory>
#include <string>

#include <rocksdb/db.h>
#include <catch2/catch.hpp>

#include "audit_fixture.h"
#include "ledger/calendar.h"
#include "raw_db.h"
#include "services/ledger_verification.h"

namespace attendance::testing {
namespace {

std::string EventKey(std::uint64_t position) {
  std::string key;
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>(position >> shift));
  return key;
}

std::string Sha256(std::string_view a, std::string_view b) {
  unsigned char out[32];
  unsigned int size = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, a.data(), a.size());
  EVP_DigestUpdate(ctx, b.data(), b.size());
  EVP_DigestFinal_ex(ctx, out, &size);
  EVP_MD_CTX_free(ctx);
  return std::string(reinterpret_cast<char*>(out), size);
}

// Rewrites the stored event at `position` with `fn(previous hash, hash, body)` behind the
// closed ledger's back; `fn` returns the new stored value.
template <typename Fn>
void Rewrite(const std::string& path, std::uint64_t position, Fn fn) {
  WithRawDb(path, [&](rocksdb::DB& db, RawFamilies& families) {
    rocksdb::ColumnFamilyHandle* events = families.at("events");
    std::string value, prev;
    REQUIRE(db.Get(rocksdb::ReadOptions(), events, EventKey(position), &value).ok());
    REQUIRE(db.Get(rocksdb::ReadOptions(), events, EventKey(position - 1), &prev).ok());
    REQUIRE(db.Put(rocksdb::WriteOptions(), events, EventKey(position),
                   fn(prev.substr(0, 32), value.substr(0, 32), value.substr(32)))
                .ok());
  });
}

v1::VerifyLedgerProgress VerifyAll(const ledger::Ledger& ledger) {
  auto result = services::VerifyLedgerRange(ledger, 0, 0, 1000, nullptr, "",
                                            [](const v1::VerifyLedgerProgress&) { return true; });
  REQUIRE(result.ok());
  REQUIRE(result->done());
  return *result;
}

TEST_CASE("tampering behind the ledger's back is named by position", "[audit][chain]") {
  AuditFixture f;
  MakeHistory(f, kT0);
  REQUIRE(VerifyAll(*f.ledger).ok());
  const ledger::Position last = f.ledger->LastPosition();
  const std::string path = f.dir.Sub("db");
  f.Stop();
  f.ledger.reset();

  SECTION("an independent recomputation over the stored bytes agrees with the chain") {
    // SHA-256(previous stored hash || stored bytes), position by position,
    // with OpenSSL and RocksDB only: the chain's definition, not its code.
    WithRawDb(path, [&](rocksdb::DB& db, RawFamilies& families) {
      std::unique_ptr<rocksdb::Iterator> it(
          db.NewIterator(rocksdb::ReadOptions(), families.at("events")));
      std::string prev;
      std::uint64_t expected = 1;
      for (it->SeekToFirst(); it->Valid(); it->Next(), ++expected) {
        CHECK(it->key().ToString() == EventKey(expected));
        const std::string value = it->value().ToString();
        REQUIRE(value.size() > 32);
        CHECK(value.substr(0, 32) == Sha256(prev, value.substr(32)));
        prev = value.substr(0, 32);
      }
      CHECK(expected == last + 1);
    });
  }

  SECTION("one byte of a stored event flipped: that position, through the running server") {
    Rewrite(path, 4, [](std::string, std::string hash, std::string body) {
      body.back() = static_cast<char>(body.back() ^ 0x01);
      return hash + body;
    });
    f.Reopen();
    f.Start();
    std::vector<v1::VerifyLedgerProgress> messages = f.Verify({});
    REQUIRE(messages.size() == 1);
    CHECK(messages[0].done());
    CHECK_FALSE(messages[0].ok());
    CHECK(messages[0].result_code() == "DATA_LOSS");
    CHECK(messages[0].first_failing_position() == 4);
    CHECK(messages[0].verified_through() == 3);
  }

  SECTION("an event rewritten with a fresh hash of its own: the next position") {
    // The forger chains the new bytes to the stored previous hash, exactly
    // as the ledger would have: position 5 verifies, 6 no longer chains.
    Rewrite(path, 5, [](std::string prev, std::string, std::string body) {
      v1::EventEnvelope event;
      REQUIRE(event.ParseFromString(body));
      event.mutable_actor()->set_name("Someone Else");
      const std::string forged = event.SerializeAsString();
      return Sha256(prev, forged) + forged;
    });
    f.Reopen();
    const v1::VerifyLedgerProgress result = VerifyAll(*f.ledger);
    CHECK_FALSE(result.ok());
    CHECK(result.first_failing_position() == 6);
    CHECK_THAT(result.failure(), Catch::Contains("position 6"));
  }

  SECTION("an event moved to another position, re-hashed: that position") {
    Rewrite(path, 5, [](std::string prev, std::string, std::string body) {
      v1::EventEnvelope event;
      REQUIRE(event.ParseFromString(body));
      event.set_position(4);
      const std::string moved = event.SerializeAsString();
      return Sha256(prev, moved) + moved;
    });
    // A normal open refuses it at once (position 5 does not fold); the
    // offline check names it.
    ledger::LedgerOptions options;
    options.data_dir = path;
    options.read_only = true;
    auto opened = ledger::Ledger::Open(options);
    REQUIRE(opened.ok());
    const v1::VerifyLedgerProgress result = VerifyAll(**opened);
    CHECK_FALSE(result.ok());
    CHECK(result.first_failing_position() == 5);
    CHECK_THAT(result.failure(), Catch::Contains("does not match its key"));
  }

  SECTION("a deleted event: the gap, offline on a read-only open") {
    WithRawDb(path, [](rocksdb::DB& db, RawFamilies& families) {
      REQUIRE(db.Delete(rocksdb::WriteOptions(), families.at("events"), EventKey(3)).ok());
    });
    ledger::LedgerOptions options;
    options.data_dir = path;
    options.read_only = true;
    auto opened = ledger::Ledger::Open(options);
    REQUIRE(opened.ok());
    REQUIRE((*opened)->LastPosition() == last);
    const v1::VerifyLedgerProgress result = VerifyAll(**opened);
    CHECK_FALSE(result.ok());
    CHECK(result.first_failing_position() == 3);
    CHECK_THAT(result.failure(), Catch::Contains("missing"));
  }
}

// VerifyChain reads on one thread and hashes batches of 4,096 events on
// others (ledger/src/chain_check.h): over a log of many batches, with bad
// events in several, the first by position is named, whichever batch a
// hasher finishes first, and a bad hash before a gap wins over the gap.
TEST_CASE("tampering in several hashing batches: the first position is named", "[audit][chain]") {
  AuditFixture f(300);
  ledger::SchoolCalendar calendar;
  calendar.Set(Calendar2025("s1").calendar());
  int days = 0;
  for (ledger::Day day = *ledger::ParseDate("2025-09-03"); days < 22; ++day) {
    if (!calendar.IsSchoolDay(day)) continue;
    ++days;
    v1::RecordMarksRequest marks;
    marks.set_school_id("s1");
    for (int p = 1; p <= 300; ++p) {
      for (v1::Session session : {v1::AM, v1::PM}) {
        if (ledger::FormatDate(day) == "2025-10-01" && session == v1::AM) continue;
        *marks.add_marks() =
            MakeMark("p" + std::to_string(p), ledger::FormatDate(day), session, "/");
      }
    }
    REQUIRE(f.ledger->RecordMarks(kTeacher, marks).ok());
  }
  const ledger::Position last = f.ledger->LastPosition();
  REQUIRE(last > 3 * 4096 + 100);
  REQUIRE(VerifyAll(*f.ledger).ok());
  const std::string path = f.dir.Sub("db");
  f.Stop();
  f.ledger.reset();
  auto flip = [&](std::uint64_t position) {
    Rewrite(path, position, [](std::string, std::string hash, std::string body) {
      body.back() = static_cast<char>(body.back() ^ 0x01);
      return hash + body;
    });
  };
  auto verify = [&](std::uint64_t every) {
    ledger::LedgerOptions options;
    options.data_dir = path;
    options.read_only = true;
    auto opened = ledger::Ledger::Open(options);
    REQUIRE(opened.ok());
    auto result = services::VerifyLedgerRange(**opened, 0, 0, every, nullptr, "",
                                              [](const v1::VerifyLedgerProgress&) { return true; });
    REQUIRE(result.ok());
    return *result;
  };
  SECTION("bad events in the third, second and fourth batches") {
    flip(2 * 4096 + 7);
    flip(4096 + 4096 / 2);
    flip(3 * 4096 + 1);
    for (std::uint64_t every : {1000u, 100000u}) {
      const v1::VerifyLedgerProgress result = verify(every);
      CHECK_FALSE(result.ok());
      CHECK(result.first_failing_position() == 4096 + 4096 / 2);
      CHECK(result.verified_through() == 4096 + 4096 / 2 - 1);
      CHECK_THAT(result.failure(), Catch::Contains("hash does not verify"));
    }
  }
  SECTION("a bad event at a batch's first and last positions") {
    flip(4096 + 1);
    CHECK(verify(100000).first_failing_position() == 4096 + 1);
    flip(4096);
    CHECK(verify(100000).first_failing_position() == 4096);
  }
  SECTION("a bad hash, then a gap further on: the bad hash") {
    flip(2 * 4096 + 10);
    WithRawDb(path, [](rocksdb::DB& db, RawFamilies& families) {
      REQUIRE(
          db.Delete(rocksdb::WriteOptions(), families.at("events"), EventKey(3 * 4096 + 5)).ok());
    });
    CHECK(verify(100000).first_failing_position() == 2 * 4096 + 10);
  }
  SECTION("a gap, then a bad hash further on: the gap") {
    WithRawDb(path, [](rocksdb::DB& db, RawFamilies& families) {
      REQUIRE(db.Delete(rocksdb::WriteOptions(), families.at("events"), EventKey(4096 + 5)).ok());
    });
    flip(2 * 4096 + 10);
    const v1::VerifyLedgerProgress result = verify(100000);
    CHECK(result.first_failing_position() == 4096 + 5);
    CHECK_THAT(result.failure(), Catch::Contains("missing"));
  }
}

}  // namespace
}  // namespace attendance::testing
