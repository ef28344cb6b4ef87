// bench_ledger_micro: Google Benchmark micro-benchmarks of the ledger's
// per-event work that is not RocksDB's: the chain hash (a reused hasher, as a
// commit group and a chain check use, against one context per call), the
// code table, date parsing and the school's local day.
//
//   bench_ledger_micro [--benchmark_filter=REGEX] [--benchmark_min_time=S]
//
// A benchmark, not a test: nothing gates on its timings.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "group.h"  // ChainHasher, ChainHash (ledger/src)
#include "ledger/clock.h"
#include "ledger/codes.h"
#include "ledger/types.h"

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

}  // namespace
}  // namespace attendance::ledger

BENCHMARK_MAIN();
