// bench_ledger_micro: Google Benchmark micro-benchmarks of the ledger's
// per-event work that is not RocksDB's: the chain hash (a reused hasher, as a
// commit group and a chain check use, against one context per call), the
// code table, date parsing, the school's local day, and sealing and opening
// an event's personal fields (ADR 0003).
//
//   bench_ledger_micro [--benchmark_filter=REGEX] [--benchmark_min_time=S]
//
// A benchmark, not a test: nothing gates on its timings.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "group.h"  // ChainHasher, ChainHash (ledger/src)
#include "ledger/clock.h"
#include "ledger/codes.h"
#include "ledger/personal_data.h"
#include "ledger/types.h"
#include "personal_keys.h"  // ledger/src

namespace attendance::ledger {
namespace {

// About the size of a serialised MarkRecorded envelope.
const std::string& EventBody() {
  static const std::string body(150, 'x');
  return body;
}

void BM_ChainHasherReused(benchmark::State& state) {
  ChainHasher hasher;
  std::string prev(kHashSize, '\0');
  for (auto _ : state) {
    prev = hasher(prev, EventBody());
    benchmark::DoNotOptimize(prev);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ChainHasherReused);

void BM_ChainHashPerCall(benchmark::State& state) {
  std::string prev(kHashSize, '\0');
  for (auto _ : state) {
    prev = ChainHash(prev, EventBody());
    benchmark::DoNotOptimize(prev);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ChainHashPerCall);

void BM_LookupCode(benchmark::State& state) {
  const Day day = DayFromCivil(2025, 10, 9);
  const char* codes[] = {"/", "\\", "N", "I", "G", "L", "U", "#", "Y1", "C2"};
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(LookupCode(codes[i++ % 10], day));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LookupCode);

void BM_ParseDate(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(ParseDate("2025-10-09"));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseDate);

void BM_SchoolLocalDay(benchmark::State& state) {
  std::int64_t micros = 1'760'000'000'000'000;  // 2025-10-09 09:53 BST
  for (auto _ : state) {
    benchmark::DoNotOptimize(SchoolLocalDay(micros));
    micros += 60'000'000;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SchoolLocalDay);

// A mark as most are: no comment, so nothing to seal.
v1::EventEnvelope PlainMark() {
  v1::EventEnvelope event;
  event.set_position(12345);
  event.set_school_id("s1");
  event.set_pupil_id("p0001");
  event.mutable_mark_recorded()->set_code("/");
  event.mutable_mark_recorded()->set_date("2025-10-08");
  return event;
}

void BM_SealMarkWithoutComment(benchmark::State& state) {
  PersonalKeys keys;
  rocksdb::WriteBatch batch;
  const v1::EventEnvelope plain = PlainMark();
  for (auto _ : state) {
    v1::EventEnvelope event = plain;
    benchmark::DoNotOptimize(keys.Seal(event, batch, nullptr).ok());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SealMarkWithoutComment);

// One pupil's key (created by the first Seal, then cached), a comment
// sealed at append and opened on a read: AES-256-GCM through EVP, a random
// nonce, the key lookup under its shared lock.
void BM_SealAndOpenComment(benchmark::State& state) {
  char dir[] = "/tmp/bench-seal-XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  if (!rocksdb::DB::Open(options, dir, &db).ok()) {
    state.SkipWithError("cannot open a RocksDB");
    return;
  }
  PersonalKeys keys;
  rocksdb::WriteBatch batch;
  v1::EventEnvelope commented = PlainMark();
  commented.mutable_mark_recorded()->set_comment("parent phoned at 08:40, dentist");
  for (auto _ : state) {
    v1::EventEnvelope event = commented;
    benchmark::DoNotOptimize(keys.Seal(event, batch, db->DefaultColumnFamily()).ok());
    benchmark::DoNotOptimize(keys.Open(event).ok());
  }
  state.SetItemsProcessed(state.iterations());
  delete db;
  rocksdb::DestroyDB(dir, options);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SealAndOpenComment);

}  // namespace
}  // namespace attendance::ledger

BENCHMARK_MAIN();
