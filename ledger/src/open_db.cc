#include "open_db.h"

#include <cstdarg>
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "keys.h"
#include "logger.h"
#include "rocks_status.h"

namespace attendance::ledger {
namespace {

// RocksDB's info log, at debug level in the ledger's logger: a read-only
// open must not create or rotate LOG in a directory it only reads.
class SpdlogInfoLog final : public rocksdb::Logger {
 public:
  SpdlogInfoLog() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char line[1024];
    std::vsnprintf(line, sizeof line, format, ap);
    SPDLOG_LOGGER_DEBUG(&Log(), "rocksdb: {}", line);
  }
};

}  // namespace

absl::Status OpenLedgerDb(rocksdb::DBOptions db_options, const std::string& dir, bool read_only,
                          const std::vector<rocksdb::ColumnFamilyDescriptor>& descriptors,
                          std::vector<rocksdb::ColumnFamilyHandle*>* handles, rocksdb::DB** db) {
  if (read_only) {
    db_options.info_log = std::make_shared<SpdlogInfoLog>();
    db_options.create_if_missing = false;
    // A subset of the families is allowed read-only: retired ones stay shut.
    return FromRocks(rocksdb::DB::OpenForReadOnly(db_options, dir, descriptors, handles, db),
                     absl::StrCat("open ", dir, " read-only"));
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> all = descriptors;
  std::vector<std::string> existing;
  // Fails when there is no DB yet, which has no retired families either.
  if (rocksdb::DB::ListColumnFamilies(db_options, dir, &existing).ok()) {
    for (const char* retired : keys::kRetiredColumnFamilies) {
      for (const auto& name : existing) {
        if (name == retired) all.emplace_back(name, rocksdb::ColumnFamilyOptions());
      }
    }
  }
  if (auto s = FromRocks(rocksdb::DB::Open(db_options, dir, all, handles, db),
                         absl::StrCat("open ", dir));
      !s.ok()) {
    return s;
  }
  absl::Status status;
  while (handles->size() > descriptors.size()) {
    rocksdb::ColumnFamilyHandle* retired = handles->back();
    handles->pop_back();
    if (status.ok()) {
      status = FromRocks((*db)->DropColumnFamily(retired),
                         absl::StrCat("drop retired column family ", retired->GetName()));
      if (status.ok()) {
        SPDLOG_LOGGER_INFO(&Log(), "dropped the retired column family {}", retired->GetName());
      }
    }
    (*db)->DestroyColumnFamilyHandle(retired);
  }
  if (!status.ok()) {
    for (auto* handle : *handles) (*db)->DestroyColumnFamilyHandle(handle);
    handles->clear();
    delete *db;
    *db = nullptr;
  }
  return status;
}

absl::StatusOr<Position> LastStoredPosition(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* events) {
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), events));
  it->SeekToLast();
  if (auto s = FromRocks(it->status(), "find the last event"); !s.ok()) return s;
  if (!it->Valid()) return Position{0};
  if (it->key().size() != 8) return absl::DataLossError("events: the last key is not a position");
  return keys::GetFixed64(it->key().ToStringView());
}

}  // namespace attendance::ledger
