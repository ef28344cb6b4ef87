// Pure evaluation of an escalation policy for one pupil (escalation.h); the
// parts are in escalation_context.cc, escalation_triggers.cc and
// escalation_ladders.cc.
#include "projections/escalation.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_format.h"
#include "escalation_internal.h"

namespace attendance::projections {

using escalation_internal::Ctx;
using escalation_internal::EvaluateBands;
using escalation_internal::EvaluateLadder;
using escalation_internal::EvaluateReviews;
using escalation_internal::EvaluateTriggers;

bool EvaluationCache::AskCalendar(Day day) {
  // Four academic years back and two ahead of the first day asked cover a
  // query's windows; anything outside is asked of the calendar.
  constexpr Day kBack = 4 * 366;
  constexpr Day kAhead = 2 * 366;
  if (school_days_.empty()) {
    first_day_ = day - kBack;
    school_days_.assign(static_cast<std::size_t>(kBack + kAhead), -1);
  }
  const Day i = day - first_day_;
  if (i < 0 || i >= static_cast<Day>(school_days_.size())) return calendar_.IsSchoolDay(day);
  std::int8_t& known = school_days_[static_cast<std::size_t>(i)];
  if (known < 0) known = calendar_.IsSchoolDay(day) ? 1 : 0;
  return known == 1;
}

const ResolvedWindow& EvaluationCache::Window(const WindowSpec& spec, Day on) {
  auto [it, inserted] =
      windows_.try_emplace({static_cast<int>(spec.kind), spec.weeks, on}, ResolvedWindow{});
  if (inserted) it->second = ResolveWindow(calendar_, spec, on);
  return it->second;
}

std::string FormatBasisPoints(std::uint32_t basis_points) {
  return absl::StrFormat("%.1f%%", basis_points / 100.0);
}

bool Compare(std::uint32_t attended, std::uint32_t possible, std::uint32_t basis_points,
             v1::Comparison comparison) {
  const std::uint64_t lhs = 10000ull * attended;
  const std::uint64_t rhs = std::uint64_t{basis_points} * possible;
  switch (comparison) {
    case v1::BELOW:
      return lhs < rhs;
    case v1::AT_OR_BELOW:
      return lhs <= rhs;
    case v1::AT_OR_ABOVE:
      return lhs >= rhs;
    case v1::ABOVE:
      return lhs > rhs;
    default:
      return false;
  }
}

v1::PupilEscalation EvaluatePupil(const EscalationInputs& inputs, Day as_of) {
  v1::PupilEscalation out;
  out.set_pupil_id(inputs.pupil_id);
  out.set_as_of(ledger::FormatDate(as_of));
  if (inputs.policy == nullptr || inputs.calendar == nullptr) return out;
  std::optional<EvaluationCache> own;
  if (inputs.cache == nullptr) own.emplace(*inputs.calendar);
  EvaluationCache& cache = inputs.cache ? *inputs.cache : *own;
  // The same evaluation on the marks as first recorded, for the actions an
  // amendment superseded (only for a pupil with amendments).
  const std::vector<escalation_internal::OriginalCode> original =
      escalation_internal::OriginalCodes(inputs, as_of);
  const Day known = std::max(as_of, inputs.known_through);
  const Ctx first_recorded{inputs, as_of, *inputs.policy, cache, &original, nullptr, known};
  const Ctx* as_first_recorded = original.empty() ? nullptr : &first_recorded;
  escalation_internal::WindowCounts counts;
  const Ctx c{inputs, as_of, *inputs.policy, cache, nullptr, as_first_recorded, known, &counts};
  out.set_policy_id(c.policy.policy_id());
  out.set_policy_version(c.policy.version());
  for (const v1::Ladder& ladder : c.policy.ladders()) EvaluateLadder(c, ladder, out);
  EvaluateTriggers(c, out);
  EvaluateReviews(c, out);
  escalation_internal::EvaluateReviewPoints(c, out);
  escalation_internal::EvaluateImprovements(c, out);
  escalation_internal::SupersededImprovements(c, out);
  escalation_internal::NoteChangedReviewVerdicts(c, out);
  escalation_internal::EvaluatePreviousYearRules(c, out);
  escalation_internal::EvaluatePenaltyNotices(c, out);
  escalation_internal::ApplyCohortRules(c, out);
  if (inputs.due_only) return out;
  for (const v1::BandSet& set : c.policy.band_sets()) EvaluateBands(c, set, out);
  return out;
}

}  // namespace attendance::projections
