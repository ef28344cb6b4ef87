// Opening the RocksDB-backed Ledger: RocksDB's options, the column
// families, rebuilding the hot state from the log and the head record check.
#include <pthread.h>

#include <algorithm>
#include <filesystem>
#include <optional>

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_buffer_manager.h>

#include "absl/strings/str_cat.h"
#include "fault/power_loss_fs.h"
#include "logger.h"
#include "open_db.h"
#include "rocks_info_log.h"
#include "rocks_ledger.h"
#include "rocks_status.h"
#include "validation.h"

namespace attendance::ledger {

absl::StatusOr<std::unique_ptr<Ledger>> Ledger::Open(LedgerOptions options) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("data_dir: must not be empty");
  // Validation judges dates by the school's local date: without the zone
  // it would silently use UTC.
  if (auto s = CheckSchoolTimeZone(); !s.ok()) return s;
  if (!options.hot_from) {
    options.hot_from = AcademicYearStart(AcademicYearOf(options.clock.Today()) - 1);
  }
  auto ledger = std::make_unique<RocksLedger>(std::move(options));
  if (auto s = ledger->Open(); !s.ok()) return s;
  return std::unique_ptr<Ledger>(std::move(ledger));
}

absl::Status RocksLedger::Open() {
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.bytes_per_sync = 1 << 20;
  db_options.max_total_wal_size = 256u << 20;
  // One thread writes, so the concurrent skiplist insert buys nothing, and
  // the sequential insert reuses its last splice: marks arrive in runs of
  // neighbouring keys, which makes most inserts a short step.
  db_options.allow_concurrent_memtable_write = false;
  db_options.enable_write_thread_adaptive_yield = false;
  // [storage] Corruption and full disks (issue 10).
  // WAL recovery may drop only an incomplete record at the very end of a
  // WAL: what a crash or a failed write leaves mid-append. An acknowledged
  // record was written whole and synced before its answer, and every later
  // append lands after it, so a crash cannot cut it. A checksum failure
  // anywhere fails the open (DATA_LOSS); kPointInTimeRecovery, the default,
  // silently stopped there and dropped every record after it. A truncated
  // WAL looks like a torn tail to RocksDB: the head record catches that.
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  // RocksDB's LOG file on the data disk aborted the process when it filled.
  db_options.info_log = NewSpdlogInfoLog();
  // fallocate reserved up to ~70 MB ahead for each WAL and SST (1.1 x the
  // write buffer), which made a small disk look full long before it was.
  db_options.allow_fallocate = false;
  // Created here, not by RocksDB, so that its file tracker does not log an
  // error about a missing directory on a new ledger's first start.
  std::error_code dir_error;
  if (!options_.read_only) std::filesystem::create_directories(options_.data_dir, dir_error);
  if (options_.power_loss != nullptr) db_options.env = fault::PowerLossEnv(*options_.power_loss);

  // Memory that does not grow with the ledger: every table's blocks,
  // index and filter blocks included, in one cache of a fixed size (the
  // index and filter blocks of level-0 files pinned, being read most), and
  // every memtable within one budget. Before, each family had its own 8 MB
  // cache and the index and filter blocks of every table file stayed in
  // memory outside it.
  rocksdb::LRUCacheOptions cache_options;
  cache_options.capacity = options_.block_cache_bytes != 0 ? options_.block_cache_bytes
                                                           : LedgerOptions::kDefaultBlockCacheBytes;
  cache_options.high_pri_pool_ratio = 0.5;  // index and filter blocks first
  block_cache_ = rocksdb::NewLRUCache(cache_options);
  write_buffers_ = std::make_shared<rocksdb::WriteBufferManager>(
      options_.write_buffer_budget_bytes != 0 ? options_.write_buffer_budget_bytes
                                              : LedgerOptions::kDefaultWriteBufferBudgetBytes);
  db_options.write_buffer_manager = write_buffers_;
  auto table = [&](bool bloom) {
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = block_cache_;
    // Index and filter blocks stay with their table readers, outside the
    // cache: inside a 64 MB cache, a three-year school's read models
    // evicted them, and GetMarkHistory's p50 went from 0.3 ms to 6-10 ms
    // (bench_audit --years 3). Their memory grows with the data again.
    t.cache_index_and_filter_blocks = false;
    if (bloom) t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    return std::shared_ptr<rocksdb::TableFactory>(rocksdb::NewBlockBasedTableFactory(t));
  };
  const std::shared_ptr<rocksdb::TableFactory> plain_table = table(false);
  rocksdb::ColumnFamilyOptions small_options;
  small_options.table_factory = plain_table;

  rocksdb::ColumnFamilyOptions log_options;
  log_options.write_buffer_size = 64u << 20;
  log_options.compression = rocksdb::kLZ4Compression;
  log_options.table_factory = plain_table;

  rocksdb::ColumnFamilyOptions index_options;
  index_options.write_buffer_size = 32u << 20;
  index_options.table_factory = table(true);
  if (options_.memtable_bytes != 0) {
    log_options.write_buffer_size = index_options.write_buffer_size = options_.memtable_bytes;
    log_options.level0_file_num_compaction_trigger = 2;
    index_options.level0_file_num_compaction_trigger = 2;
  }

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, small_options},
      {"events", log_options},
      {"marks", index_options},
      {"requests", index_options},
      {"checkpoints", small_options},
      {"read_models", index_options},  // read models' keyed state (read_model_store.cc)
      {"pupil_keys", small_options},   // personal_keys.h (ADR 0003)
  };
  // A read-only open of a ledger from before retention finds no keys family
  // (and may not create one).
  if (options_.read_only) {
    std::vector<std::string> existing;
    if (rocksdb::DB::ListColumnFamilies(db_options, options_.data_dir, &existing).ok() &&
        std::find(existing.begin(), existing.end(), "pupil_keys") == existing.end()) {
      descriptors.pop_back();
    }
  }
  rocksdb::DB* db = nullptr;
  if (auto s = OpenLedgerDb(db_options, options_.data_dir, options_.read_only, descriptors,
                            &handles_, &db);
      !s.ok()) {
    return ExplainOpenFailure(options_.data_dir, s);  // [storage]
  }
  db_.reset(db);
  cf_ = {handles_[1], handles_[2], handles_[3], handles_[4],
         handles_.size() > 6 ? handles_[6] : nullptr};
  read_models_cf_ = handles_[5];
  if (auto s = personal_keys_.Load(*db_, cf_.pupil_keys); !s.ok()) return s;
  // Read-only: no fold and no writer; the head is the last stored key.
  if (options_.read_only) {
    auto last = LastStoredPosition(*db_, cf_.events);
    if (!last.ok()) return last.status();
    committed_.store(*last, std::memory_order_release);
    commit_signal_.Committed(*last);
    return absl::OkStatus();
  }
  if (auto s = Replay(); !s.ok()) return s;
  if (auto s = CheckHeadRecord(); !s.ok()) return s;
  // Named, so that top -H and perf tell the pipeline's two stages apart.
  writer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ledger-writer");
    WriterLoop();
  });
  committer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ledger-commit");
    CommitLoop();
  });
  return absl::OkStatus();
}

// Rebuilds the hot state from the log.
absl::Status RocksLedger::Replay() {
  rocksdb::ReadOptions read;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, cf_.events));
  v1::EventEnvelope envelope;
  Position expected = 1;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const Position position = keys::GetFixed64(it->key().ToStringView());
    const std::string_view value = it->value().ToStringView();
    if (position != expected || value.size() < kHashSize ||
        !envelope.ParseFromArray(value.data() + kHashSize,
                                 static_cast<int>(value.size() - kHashSize)) ||
        envelope.position() != position) {
      return absl::DataLossError(
          absl::StrCat("position ", expected, ": missing or undecodable at start-up"));
    }
    // The hot state keeps a pupil's carers' ids (leave requests and penalty
    // notices name one), and those are sealed with the pupil's details.
    // Sealed bytes that do not open (changed behind the ledger's back) leave
    // the carers unknown here; every read of that event names the damage.
    if (!envelope.sealed_personal().empty() &&
        (envelope.has_pupil_enrolled() || envelope.has_pupil_updated())) {
      personal_keys_.Open(envelope).IgnoreError();
    }
    state_.Apply(envelope);
    prepared_hash_.assign(value.data(), kHashSize);
    ++expected;
  }
  if (auto s = FromRocks(it->status(), "replay"); !s.ok()) return s;
  committed_.store(expected - 1, std::memory_order_release);
  SPDLOG_LOGGER_INFO(&Log(), "ledger at {}: {} events, {} hot marks", options_.data_dir,
                     expected - 1, state_.hot_marks());
  return absl::OkStatus();
}

void RocksLedger::LogMemory() {
  auto mb = [&](const std::string& property) {
    std::uint64_t value = 0;
    db_->GetAggregatedIntProperty(property, &value);
    return static_cast<double>(value) / (1 << 20);
  };
  SPDLOG_LOGGER_INFO(&Log(),
                     "memory: at position {}: memtables {:.1f} MB, table readers {:.1f} MB, block "
                     "cache {:.1f} MB ({:.1f} MB pinned), hot state {:.1f} MB ({} hot marks)",
                     state_.last_position(), mb("rocksdb.cur-size-all-mem-tables"),
                     mb("rocksdb.estimate-table-readers-mem"),
                     static_cast<double>(block_cache_->GetUsage()) / (1 << 20),
                     static_cast<double>(block_cache_->GetPinnedUsage()) / (1 << 20),
                     static_cast<double>(state_.MemoryBytes()) / (1 << 20), state_.hot_marks());
}

// [storage] Head record (issue 10).

// Start-up cross-check: the recovered log must contain the head that the
// last run recorded (head_record.h); from here on, keep recording it.
absl::Status RocksLedger::CheckHeadRecord() {
  const std::string path = HeadRecordPath(options_.data_dir);
  absl::StatusOr<std::optional<LedgerHead>> recorded = ReadHeadRecord(path);
  if (!recorded.ok()) return recorded.status();
  const Position last = committed_.load(std::memory_order_acquire);
  if (*recorded) {
    const Position at = (*recorded)->position;
    std::string hash;
    if (at == last) {
      hash = prepared_hash_;
    } else if (at > 0 && at < last) {
      std::string value;
      if (auto s = FromRocks(db_->Get(rocksdb::ReadOptions(), cf_.events, keys::Event(at), &value),
                             absl::StrCat("read position ", at));
          !s.ok()) {
        return s;
      }
      hash = value.substr(0, kHashSize);
    }
    if (auto s = CheckRecoveredHead(options_.data_dir, **recorded, last, hash); !s.ok()) {
      SPDLOG_LOGGER_ERROR(&Log(), "{}", s.ToString());
      return s;
    }
  }
  head_recorder_ = std::make_unique<HeadRecorder>(path, LedgerHead{last, prepared_hash_});
  return absl::OkStatus();
}

}  // namespace attendance::ledger
