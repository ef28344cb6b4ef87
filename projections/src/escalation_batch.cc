// Many pupils evaluated at once for the worklist (escalation_batch.h).
#include "escalation_batch.h"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <thread>

namespace attendance::projections {
namespace {

// Below this many evaluations a second thread costs more than it saves
// (starting one is some tens of microseconds; an evaluation is about ten).
constexpr std::size_t kMinPerThread = 64;
// Two cores are what the machine has; more threads would only
// contend with the fold and the other queries.
constexpr unsigned kMaxThreads = 2;
// Pupils taken at a time from the shared counter: few enough to balance
// the threads, enough that the counter is not contended.
constexpr std::size_t kChunk = 16;

// One thread's evaluation inputs: the school's parts resolved once (the
// calendar, settings and policy), then pointed at each pupil in turn.
class Evaluator {
 public:
  Evaluator(const EscalationState& state, std::string_view school_id, Day as_of, int minute,
            const EscalationResultCache::Key& key)
      : state_(state), school_id_(school_id), as_of_(as_of), minute_(minute), key_(key) {}
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  EscalationResultCache::Result Evaluate(const PupilState& pupil) {
    if (!in_) {
      in_ = state_.InputsFor(school_id_, pupil.id, as_of_, &scratch_);
      // One school, one date: every pupil shares the calendar's answers.
      cache_.emplace(*in_->calendar);
      in_->cache = &*cache_;
      in_->as_of_minute = minute_;
      in_->due_only = key_.due_only;
      in_->explain = key_.explain;
    }
    state_.SetPupil(school_id_, pupil.id, *in_);
    return state_.results().Insert(school_id_, pupil.id, key_, EvaluatePupil(*in_, as_of_));
  }

 private:
  const EscalationState& state_;
  std::string_view school_id_;
  Day as_of_;
  int minute_;
  EscalationResultCache::Key key_;
  ledger::SchoolCalendar scratch_;  // in_->calendar may point here
  std::optional<EvaluationCache> cache_;
  std::optional<EscalationInputs> in_;
};

}  // namespace

std::vector<EscalationResultCache::Result> EvaluatePupils(
    const EscalationState& state, std::string_view school_id, Day as_of, int minute,
    const EscalationResultCache::Key& key, const std::vector<const PupilState*>& pupils) {
  std::vector<EscalationResultCache::Result> results(pupils.size());
  std::vector<std::size_t> misses;
  for (std::size_t i = 0; i < pupils.size(); ++i) {
    results[i] = state.results().Find(school_id, pupils[i]->id, key);
    if (results[i] == nullptr) misses.push_back(i);
  }
  const unsigned cores = std::max(1u, std::min(kMaxThreads, std::thread::hardware_concurrency()));
  const auto threads =
      static_cast<unsigned>(std::clamp<std::size_t>(misses.size() / kMinPerThread, 1, cores));
  std::atomic<std::size_t> next{0};
  // Each thread its own inputs and calendar answers; the results go to
  // distinct slots, and the cache locks its own insertions.
  auto work = [&] {
    Evaluator evaluator(state, school_id, as_of, minute, key);
    for (;;) {
      const std::size_t first = next.fetch_add(kChunk, std::memory_order_relaxed);
      if (first >= misses.size()) return;
      const std::size_t last = std::min(misses.size(), first + kChunk);
      for (std::size_t m = first; m < last; ++m) {
        results[misses[m]] = evaluator.Evaluate(*pupils[misses[m]]);
      }
    }
  };
  std::vector<std::thread> helpers;
  for (unsigned t = 1; t < threads; ++t) helpers.emplace_back(work);
  work();
  for (std::thread& t : helpers) t.join();
  return results;
}

}  // namespace attendance::projections
