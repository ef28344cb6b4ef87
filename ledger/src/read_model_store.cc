#include "read_model_store.h"

#include <rocksdb/write_batch.h>

#include "absl/strings/str_cat.h"
#include "keys.h"
#include "rocks_status.h"

namespace attendance::ledger {
namespace {

class RocksReadModelStore final : public ReadModelStore {
 public:
  RocksReadModelStore(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* read_models,
                      rocksdb::ColumnFamilyHandle* checkpoints, std::string name)
      : db_(db),
        read_models_(read_models),
        checkpoints_(checkpoints),
        name_(std::move(name)),
        prefix_(name_ + '\0') {}

  absl::StatusOr<std::string> Get(std::string_view key) const override {
    std::string value;
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), read_models_, prefix_ + std::string(key), &value);
    if (s.IsNotFound()) return absl::NotFoundError(absl::StrCat(name_, ": no key"));
    if (auto st = FromRocks(s, absl::StrCat("read model ", name_, ": get")); !st.ok()) return st;
    return value;
  }

  absl::Status Scan(
      std::string_view prefix,
      const std::function<bool(std::string_view, std::string_view)>& visit) const override {
    return ScanFrom(prefix, prefix, visit);
  }

  absl::Status ScanFrom(
      std::string_view prefix, std::string_view from,
      const std::function<bool(std::string_view, std::string_view)>& visit) const override {
    const std::string start = prefix_ + std::string(prefix);
    const std::string seek = prefix_ + std::string(from < prefix ? prefix : from);
    rocksdb::ReadOptions read;
    read.prefix_same_as_start = false;
    // The prefix's end: the iterator does not step past the prefix's last
    // key into the next one's blocks (nor over deletions beyond it).
    std::string end = start;
    while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
    rocksdb::Slice upper;
    if (!end.empty()) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      upper = end;
      read.iterate_upper_bound = &upper;
    }
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, read_models_));
    for (it->Seek(seek); it->Valid(); it->Next()) {
      const std::string_view key = it->key().ToStringView();
      if (key.substr(0, start.size()) != start) break;
      if (!visit(key.substr(prefix_.size()), it->value().ToStringView())) break;
    }
    return FromRocks(it->status(), absl::StrCat("read model ", name_, ": scan"));
  }

  absl::Status Write(const ReadModelWrite& write) override {
    rocksdb::WriteBatch batch;
    if (write.clear) {
      // Every key of this read model lies in [name 0x00, name 0x01).
      std::string end = name_;
      end.push_back('\1');
      batch.DeleteRange(read_models_, prefix_, end);
    }
    for (const auto& [key, value] : write.puts) {
      const std::string full = prefix_ + key;
      if (value) {
        batch.Put(read_models_, full, *value);
      } else {
        batch.Delete(read_models_, full);
      }
    }
    std::string checkpoint;
    keys::PutFixed64(checkpoint, write.position);
    checkpoint.append(write.state);
    batch.Put(checkpoints_, name_, checkpoint);
    return FromRocks(db_->Write(rocksdb::WriteOptions(), &batch),
                     absl::StrCat("read model ", name_, ": write"));
  }

 private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* read_models_;
  rocksdb::ColumnFamilyHandle* checkpoints_;
  std::string name_;
  std::string prefix_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ReadModelStore>> NewRocksReadModelStore(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* read_models,
    rocksdb::ColumnFamilyHandle* checkpoints, const std::string& name) {
  if (name.empty() || name.size() > 128 || name.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("read model name: \"", name.substr(0, 130),
                                                   "\" must be 1 to 128 bytes, no NUL"));
  }
  return std::unique_ptr<ReadModelStore>(
      new RocksReadModelStore(db, read_models, checkpoints, name));
}

}  // namespace attendance::ledger
