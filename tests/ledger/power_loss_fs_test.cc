// The power-loss model itself, through RocksDB's FileSystem API: what a
// simulated crash keeps of files and directory entries. (power_loss_test.cc
// runs the ledger on it.)
#include "fault/power_loss_fs.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "ledger/power_loss.h"
#include "support/temp_dir.h"

namespace attendance::testing {
namespace {

std::string Contents(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct FsFixture {
  FsFixture() : fs(*sim.impl().fs), db(dir.Sub("db")) { std::filesystem::create_directory(db); }

  std::unique_ptr<rocksdb::FSWritableFile> Create(const std::string& name, const std::string& data,
                                                  bool sync) {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    REQUIRE(fs.NewWritableFile(db + "/" + name, rocksdb::FileOptions(), &file, nullptr).ok());
    REQUIRE(file->Append(data, io, nullptr).ok());
    if (sync) REQUIRE(file->Sync(io, nullptr).ok());
    return file;
  }
  void SyncDir() {
    std::unique_ptr<rocksdb::FSDirectory> d;
    REQUIRE(fs.NewDirectory(db, io, &d, nullptr).ok());
    REQUIRE(d->Fsync(io, nullptr).ok());
  }
  bool Exists(const std::string& name) { return std::filesystem::exists(db + "/" + name); }

  TempDir dir;
  ledger::PowerLossSimulator sim;
  ledger::fault::PowerLossFs& fs;
  const std::string db;
  const rocksdb::IOOptions io;
};

TEST_CASE("a power cut keeps synced bytes and drops the rest", "[ledger][power_loss]") {
  FsFixture f;
  auto file = f.Create("a.log", "synced;", /*sync=*/true);
  f.SyncDir();
  REQUIRE(file->Append("unsynced", f.io, nullptr).ok());
  SECTION("RangeSync and Close make nothing durable") {
    REQUIRE(file->RangeSync(0, 15, f.io, nullptr).ok());
    REQUIRE(file->Close(f.io, nullptr).ok());
    f.sim.Crash();
    CHECK(Contents(f.db + "/a.log") == "synced;");
  }
  SECTION("Sync does") {
    REQUIRE(file->Sync(f.io, nullptr).ok());
    f.sim.Crash();
    CHECK(Contents(f.db + "/a.log") == "synced;unsynced");
  }
  SECTION("after the cut every write fails and changes nothing") {
    f.sim.Crash();
    CHECK(f.sim.power_lost());
    CHECK(file->Append("more", f.io, nullptr).IsIOError());
    CHECK(file->Sync(f.io, nullptr).IsIOError());
    CHECK(Contents(f.db + "/a.log") == "synced;");
  }
  file.reset();
  CHECK(f.sim.Reset().ok());
}

TEST_CASE("a power cut undoes directory changes not fsynced", "[ledger][power_loss]") {
  FsFixture f;
  f.Create("old", "old contents", /*sync=*/true).reset();
  f.SyncDir();
  SECTION("a new file, synced, but its directory not") {
    f.Create("new", "new contents", /*sync=*/true).reset();
    f.sim.Crash();
    CHECK_FALSE(f.Exists("new"));
  }
  SECTION("a new file whose directory was fsynced") {
    f.Create("new", "new contents", /*sync=*/true).reset();
    f.SyncDir();
    f.sim.Crash();
    CHECK(Contents(f.db + "/new") == "new contents");
  }
  SECTION("a rename over a file (as RocksDB writes CURRENT)") {
    f.Create("tmp", "replacement", /*sync=*/true).reset();
    REQUIRE(f.fs.RenameFile(f.db + "/tmp", f.db + "/old", f.io, nullptr).ok());
    CHECK(Contents(f.db + "/old") == "replacement");
    SECTION("not fsynced: the old file is back") {
      f.sim.Crash();
      CHECK(Contents(f.db + "/old") == "old contents");
      CHECK_FALSE(f.Exists("tmp"));  // its creation was not fsynced either
    }
    SECTION("fsynced: the new one stays") {
      f.SyncDir();
      f.sim.Crash();
      CHECK(Contents(f.db + "/old") == "replacement");
    }
  }
  SECTION("a deletion not fsynced is undone") {
    REQUIRE(f.fs.DeleteFile(f.db + "/old", f.io, nullptr).ok());
    CHECK_FALSE(f.Exists("old"));
    f.sim.Crash();
    CHECK(Contents(f.db + "/old") == "old contents");
  }
  SECTION("a deletion fsynced is not") {
    REQUIRE(f.fs.DeleteFile(f.db + "/old", f.io, nullptr).ok());
    f.SyncDir();
    f.sim.Crash();
    CHECK_FALSE(f.Exists("old"));
  }
  CHECK(f.sim.Reset().ok());
  // Nothing kept aside is left behind.
  CHECK_FALSE(std::filesystem::exists(f.db + ".power-loss-trash"));
}

TEST_CASE("an armed power cut fails the nth operation and counts by activity",
          "[ledger][power_loss]") {
  FsFixture f;
  auto file = f.Create("a.log", "one;", /*sync=*/false);  // operations 1 and 2
  CHECK(f.sim.operations() == 2);
  CHECK(f.sim.operations(ledger::PowerLossSimulator::Activity::kForeground) == 2);
  CHECK(f.sim.operations(ledger::PowerLossSimulator::Activity::kFlush) == 0);
  f.SyncDir();  // so that the file itself survives
  f.sim.Arm(2);
  REQUIRE(file->Sync(f.io, nullptr).ok());
  CHECK(file->Append("two;", f.io, nullptr).IsIOError());
  CHECK(f.sim.power_lost());
  CHECK_THAT(f.sim.crash_point(), Catch::Contains("Append a.log"));
  CHECK(Contents(f.db + "/a.log") == "one;");
  file.reset();
  CHECK(f.sim.Reset().ok());
  CHECK_FALSE(f.sim.power_lost());
  CHECK(f.sim.operations() == 0);
}

}  // namespace
}  // namespace attendance::testing
