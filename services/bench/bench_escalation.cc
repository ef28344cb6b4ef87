// bench_escalation: issue 7's speed targets on a school's whole history.
//
//   ledger-history --data DIR --pupils 2000 --years 3 --seed 1   # once (tools/history)
//   bench_escalation --data DIR [--school ID] [--calls N] [--tail N]
//
// Reads the ledger in DIR (read-only; tools/history writes it with the
// school's system's own times) and measures, one call at a time (a
// worklist call evaluates its pupils on both cores, as the service does):
// - the escalation read model's fold (EscalationState::Apply over decoded
//   envelopes, RocksDB's reads and decoding outside the timing): events/s
//   and marks/s, against the 200,000 marks/s of ingest; the state's heap
//   per pupil-year (jemalloc's count for it decoded);
// - the worklist (QueryDueActions, every action due, as the office asks it)
//   on N school days of the last year, each asked cold (the day's first
//   call: every pupil evaluated) and warm (asked again): p50/p99/max;
// - live: the log's last --tail events folded in slices of 500 (a few
//   class registers), with the cache kept, and after each slice the
//   worklist of the slice's day: the fold rate with invalidation and the
//   worklist p50/p99 while the history grows, split into each day's first
//   call (every pupil evaluated for the new date) and the later ones (the
//   pupils the slice's events changed), with the evaluations each made;
// - one pupil's escalation with explanations (QueryPupilEscalation), 2,000
//   pupils on random days: p50/p99;
// - SimulatePolicy over the three years (Letter 1 at 94% against the
//   school's own), twice.
// A benchmark, not a test: nothing gates on its timings. The README's
// Escalation section records a run.
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "command_line/command_line.h"
#include "command_line/latency.h"
#include "ledger/clock.h"
#include "ledger/ledger.h"
#include "projections/escalation.h"
#include "projections/escalation_queries.h"
#include "projections/escalation_reports.h"

ABSL_FLAG(std::string, data, "", "ledger data directory (ledger-history writes one)");
ABSL_FLAG(std::string, school, "demo-school", "the school");
ABSL_FLAG(int, calls, 60, "worklist days, each asked cold and warm");
ABSL_FLAG(int, tail, 100000, "events of the log's end folded live, with the worklist between");
ABSL_FLAG(int, simulations, 2, "SimulatePolicy runs over the three years");

namespace {

using namespace attendance;  // NOLINT: a benchmark's main file
using Clock = std::chrono::steady_clock;
using projections::Day;
using tools::Ms;
using tools::Percentile;

constexpr std::string_view kProgram = "bench_escalation";
constexpr const char* kUsage =
    "usage: bench_escalation --data DIR [--school ID] [--calls N] [--tail N]\n";

void PrintTimes(const char* what, const std::vector<double>& ms, const char* extra = "") {
  std::printf("%-44s n=%-5zu p50 %8.3f ms  p99 %8.3f ms  max %8.3f ms%s\n", what, ms.size(),
              Percentile(ms, 0.5), Percentile(ms, 0.99), Percentile(ms, 1.0), extra);
}

struct Fold {
  std::uint64_t events = 0, marks = 0;
  Clock::duration time{};
  void Add(const v1::EventEnvelope& e) {
    ++events;
    if (e.has_mark_recorded()) ++marks;
  }
  void Print(const char* what) const {
    const double s = std::chrono::duration<double>(time).count();
    std::printf("%-44s %llu events (%llu marks) in %.2f s: %.0f events/s, %.0f marks/s\n", what,
                static_cast<unsigned long long>(events), static_cast<unsigned long long>(marks), s,
                static_cast<double>(events) / s, static_cast<double>(marks) / s);
  }
};

// jemalloc's count of bytes allocated, or -1 (another malloc): looked up at
// run time, so that the benchmark links with either.
double AllocatedBytes() {
  using Mallctl = int (*)(const char*, void*, std::size_t*, void*, std::size_t);
  static const auto mallctl = reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "mallctl"));
  if (mallctl == nullptr) return -1;
  std::uint64_t epoch = 1;
  std::size_t size = sizeof(epoch);
  mallctl("epoch", &epoch, &size, &epoch, size);  // refreshes the statistics
  std::size_t allocated = 0;
  size = sizeof(allocated);
  if (mallctl("stats.allocated", &allocated, &size, nullptr, 0) != 0) return -1;
  return static_cast<double>(allocated);
}

// The escalation state's heap per pupil-year: what decoding it allocates
// (a decoded state has no kept results, which are bounded and printed
// apart), over the pupil-years the school's pupils have marks in.
void PrintStateBytes(const projections::EscalationState& state,
                     const projections::SchoolState& school) {
  std::size_t pupil_years = 0;
  for (const projections::PupilState& p : school.pupils) pupil_years += p.years.size();
  if (AllocatedBytes() < 0 || pupil_years == 0) {
    std::printf("%-44s n/a (not linked with jemalloc)\n", "escalation state per pupil-year");
    return;
  }
  // Decoded afresh: the state as a restart builds it, without the results.
  double whole = 0, figures = 0;
  {
    const std::string bytes = state.Encode();
    const double encoded = AllocatedBytes();
    const absl::StatusOr<projections::EscalationState> copy =
        projections::EscalationState::Decode(bytes);
    whole = AllocatedBytes() - encoded;
  }
  {
    const std::string bytes = state.attendance().Encode();
    const double encoded = AllocatedBytes();
    const absl::StatusOr<projections::AttendanceState> copy =
        projections::AttendanceState::Decode(bytes);
    figures = AllocatedBytes() - encoded;
  }
  const auto n = static_cast<double>(pupil_years);
  std::printf("%-44s %.0f bytes (%zu pupil-years, %.1f MiB; its attendance part %.0f bytes)\n",
              "escalation state per pupil-year", whole / n, pupil_years, whole / (1 << 20),
              figures / n);
}

v1::ListDueActionsRequest WorklistRequest(const std::string& school, Day day) {
  v1::ListDueActionsRequest r;
  r.set_school_id(school);
  r.set_as_of(ledger::FormatDate(day));
  r.set_page_size(100);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each figure as it comes
  const std::vector<std::string> rest = tools::ParseFlagsOrExit(argc, argv, kProgram, kUsage);
  if (!rest.empty()) tools::ExitBadUsage(kProgram, "unexpected argument " + rest[0]);
  const std::string data = absl::GetFlag(FLAGS_data);
  if (data.empty()) tools::ExitBadUsage(kProgram, "--data is required");
  const std::string school = absl::GetFlag(FLAGS_school);
  const int calls = static_cast<int>(tools::FlagAtLeast(kProgram, FLAGS_calls, 1));
  const auto tail = static_cast<std::uint64_t>(tools::FlagAtLeast(kProgram, FLAGS_tail, 0));

  ledger::LedgerOptions options;
  options.data_dir = data;
  options.read_only = true;
  auto opened = ledger::Ledger::Open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "bench_escalation: cannot open %s: %s\n", data.c_str(),
                 std::string(opened.status().message()).c_str());
    return 1;
  }
  ledger::Ledger& ledger = **opened;
  const ledger::Position last = ledger.LastPosition();
  if (last == 0) {
    std::fprintf(stderr, "bench_escalation: %s is empty (write it with ledger-history)\n",
                 data.c_str());
    return 1;
  }
  const ledger::Position live_from = last > tail ? last - tail + 1 : 1;

  // --- The fold, chunk by chunk (RocksDB's reads outside the timing). -----
  projections::EscalationState state;
  Fold fold;
  std::vector<v1::EventEnvelope> live;
  std::int64_t last_recorded_us = 0;
  ledger::EventChunk chunk;
  ledger::ChunkLimits limits;
  limits.max_events = 50000;
  limits.max_bytes = 64u << 20;
  for (ledger::Position from = 1; from <= last;) {
    if (absl::Status s = ledger.ReadChunk(from, limits, chunk); !s.ok() || chunk.events.empty()) {
      std::fprintf(stderr, "bench_escalation: reading from %llu: %s\n",
                   static_cast<unsigned long long>(from), std::string(s.message()).c_str());
      return 1;
    }
    const auto start = Clock::now();
    for (const v1::EventEnvelope& e : chunk.events) {
      if (e.position() >= live_from) break;
      state.Apply(e);
    }
    fold.time += Clock::now() - start;
    for (const v1::EventEnvelope& e : chunk.events) {
      if (e.position() >= live_from) {
        live.push_back(e);
      } else {
        fold.Add(e);
        last_recorded_us = e.recorded_at_us();
      }
    }
    from = chunk.events.rbegin()->position() + 1;
  }
  const projections::SchoolState* school_state = state.attendance().FindSchool(school);
  if (school_state == nullptr) {
    std::fprintf(stderr, "bench_escalation: no school %s in %s\n", school.c_str(), data.c_str());
    return 1;
  }
  std::printf("%s: %llu events, %zu pupils known; fold to position %llu, %zu events live\n",
              school.c_str(), static_cast<unsigned long long>(last), school_state->pupils.size(),
              static_cast<unsigned long long>(live_from - 1), live.size());
  fold.Print("fold (EscalationState::Apply)");
  PrintStateBytes(state, *school_state);

  // --- The worklist: days of the last year before the live tail. ---------
  const Day folded_to = live.empty() ? ledger::SchoolLocalDay(last_recorded_us)
                                     : ledger::SchoolLocalDay(live.front().recorded_at_us()) - 1;
  ledger::SchoolCalendar scratch;
  const ledger::SchoolCalendar& calendar = school_state->CalendarAsOf(folded_to, &scratch);
  std::vector<Day> days;
  for (Day d = folded_to; d > folded_to - 400 && static_cast<int>(days.size()) < calls; --d) {
    if (calendar.IsSchoolDay(d)) days.push_back(d);
  }
  std::vector<double> cold, warm;
  std::uint32_t actions = 0;
  for (Day d : days) {
    const v1::ListDueActionsRequest request = WorklistRequest(school, d);
    for (std::vector<double>* times : {&cold, &warm}) {
      const auto start = Clock::now();
      absl::StatusOr<v1::ListDueActionsResponse> r =
          projections::QueryDueActions(state, request, d, projections::kEndOfDay);
      times->push_back(Ms(Clock::now() - start));
      if (!r.ok()) {
        std::fprintf(stderr, "worklist: %s\n", r.status().ToString().c_str());
        return 1;
      }
      actions = std::max(actions, r->total());
    }
  }
  char note[128];
  std::snprintf(note, sizeof note, "  (%zu days %s..%s, up to %u actions)", days.size(),
                ledger::FormatDate(days.back()).c_str(), ledger::FormatDate(days.front()).c_str(),
                actions);
  PrintTimes("worklist cold (the day's first call)", cold, note);
  PrintTimes("worklist warm (asked again)", warm);
  const projections::EscalationResultCache::Stats cache = state.results().stats();
  std::printf("%-44s %zu results, %.1f MiB (bound %zu MiB)\n", "cache after the worklists",
              cache.entries, static_cast<double>(cache.bytes) / (1 << 20),
              projections::EscalationResultCache::kDefaultMaxBytes >> 20);

  // --- Live: the tail folded in slices, the worklist between. ------------
  Fold live_fold;
  // Split by what the call has to evaluate: the first call of a new day
  // (every pupil on roll: the date is part of each result's key), or a later
  // one (only the pupils whose events were in the slice).
  std::vector<double> live_ms, turn_ms, same_day_ms;
  std::vector<double> turn_pupils, same_day_pupils;
  Day previous_day = 0;
  for (std::size_t i = 0; i < live.size();) {
    const std::size_t end = std::min(live.size(), i + 500);
    const auto start = Clock::now();
    for (std::size_t j = i; j < end; ++j) state.Apply(live[j]);
    live_fold.time += Clock::now() - start;
    for (std::size_t j = i; j < end; ++j) live_fold.Add(live[j]);
    const Day today = ledger::SchoolLocalDay(live[end - 1].recorded_at_us());
    i = end;
    const std::uint64_t misses = state.results().stats().misses;
    const auto q = Clock::now();
    absl::StatusOr<v1::ListDueActionsResponse> r =
        projections::QueryDueActions(state, WorklistRequest(school, today), today);
    live_ms.push_back(Ms(Clock::now() - q));
    const auto evaluated = static_cast<double>(state.results().stats().misses - misses);
    (today != previous_day ? turn_ms : same_day_ms).push_back(live_ms.back());
    (today != previous_day ? turn_pupils : same_day_pupils).push_back(evaluated);
    previous_day = today;
    if (!r.ok()) {
      std::fprintf(stderr, "live worklist: %s\n", r.status().ToString().c_str());
      return 1;
    }
  }
  if (!live.empty()) {
    live_fold.Print("live fold, results kept (invalidating)");
    PrintTimes("live worklist after each 500 events", live_ms);
    auto mean = [](const std::vector<double>& v) {
      double sum = 0;
      for (double x : v) sum += x;
      return v.empty() ? 0.0 : sum / static_cast<double>(v.size());
    };
    std::snprintf(note, sizeof note, "  (%.0f evaluations a call)", mean(turn_pupils));
    PrintTimes("  of which a new day's first call", turn_ms, note);
    std::snprintf(note, sizeof note, "  (%.0f evaluations a call)", mean(same_day_pupils));
    PrintTimes("  of which later calls that day", same_day_ms, note);
  }

  // --- One pupil's escalation, with explanations. -------------------------
  std::mt19937 rng(1);
  std::vector<double> pupil_ms;
  const Day today =
      ledger::SchoolLocalDay(live.empty() ? last_recorded_us : live.back().recorded_at_us());
  std::vector<const projections::PupilState*> pupils;
  for (const projections::PupilState& p : school_state->pupils) pupils.push_back(&p);
  for (int i = 0; i < 2000; ++i) {
    const projections::PupilState& p = *pupils[rng() % pupils.size()];
    const Day d = days[rng() % days.size()];
    if (!p.KnownAsOf(d)) continue;
    v1::GetPupilEscalationRequest request;
    request.set_school_id(school);
    request.set_pupil_id(p.id);
    request.set_as_of(ledger::FormatDate(d));
    const auto start = Clock::now();
    absl::StatusOr<v1::PupilEscalation> r =
        projections::QueryPupilEscalation(state, request, today);
    pupil_ms.push_back(Ms(Clock::now() - start));
    if (!r.ok()) {
      std::fprintf(stderr, "pupil %s: %s\n", p.id.c_str(), r.status().ToString().c_str());
      return 1;
    }
  }
  PrintTimes("one pupil's escalation", pupil_ms);

  // --- SimulatePolicy over the three years. -------------------------------
  const projections::PolicyRecord* own = state.PolicyForEvaluation(school, today);
  if (own == nullptr) {
    std::fprintf(stderr, "bench_escalation: the school has no policy\n");
    return 1;
  }
  v1::SimulatePolicyRequest simulate;
  simulate.set_school_id(school);
  *simulate.mutable_policy() = own->policy;
  simulate.mutable_policy()->set_version(own->policy.version() + "-what-if");
  for (v1::Ladder& ladder : *simulate.mutable_policy()->mutable_ladders()) {
    for (v1::LadderStep& step : *ladder.mutable_steps()) {
      if (step.attendance().basis_points() == 9500) {
        step.mutable_attendance()->set_basis_points(9400);
      }
    }
  }
  const int last_year = ledger::AcademicYearOf(today);
  simulate.set_from(ledger::FormatDate(ledger::AcademicYearStart(last_year - 2)));
  simulate.set_to(
      ledger::FormatDate(std::min(today, ledger::AcademicYearStart(last_year + 1) - 1)));
  std::vector<double> simulate_ms;
  for (int i = 0; i < absl::GetFlag(FLAGS_simulations); ++i) {
    const auto start = Clock::now();
    absl::StatusOr<v1::SimulatePolicyResponse> r =
        projections::SimulatePolicy(state, simulate, today);
    simulate_ms.push_back(Ms(Clock::now() - start));
    if (!r.ok()) {
      std::fprintf(stderr, "SimulatePolicy %s..%s: %s\n", simulate.from().c_str(),
                   simulate.to().c_str(), r.status().ToString().c_str());
      return 1;
    }
    if (i == 0) {
      std::printf("SimulatePolicy %s..%s: %u pupils, %d half-terms\n", simulate.from().c_str(),
                  simulate.to().c_str(), r->pupils(), r->half_terms_size());
    }
  }
  PrintTimes("SimulatePolicy over three years", simulate_ms);
  return 0;
}
