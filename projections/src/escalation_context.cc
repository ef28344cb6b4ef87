// The evaluation context, attendance conditions and the words of explanations
// (escalation_internal.h).
#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "escalation_internal.h"

namespace attendance::projections::escalation_internal {

const AttendanceCounts& WindowCounts::Get(const PupilState& pupil, Day first, Day last, Day known) {
  for (const Entry& e : entries_) {
    if (e.first == first && e.last == last && e.known == known) return e.counts;
  }
  entries_.push_back({first, last, known, pupil.Count(first, last, known)});
  return entries_.back().counts;
}

AttendanceCounts CountsOf(const Ctx& c, const ResolvedWindow& w, Day known) {
  if (c.in.pupil == nullptr || w.empty()) return {};
  if (c.original == nullptr && c.counts != nullptr) {
    return c.counts->Get(*c.in.pupil, w.first, w.last, known);
  }
  AttendanceCounts counts = c.in.pupil->Count(w.first, w.last, known);
  if (c.original == nullptr) return counts;
  // As first recorded: each amended session in the window counts with its
  // first code instead of the one known now.
  std::array<std::uint32_t, kNumCodes> histogram = counts.per_code;
  Codes now(c.in.pupil, known);
  bool changed = false;
  for (const OriginalCode& o : *c.original) {
    if (o.day < w.first || o.day > w.last) continue;
    const CodeIndex current = now.At(o.day, o.session);
    if (current == o.code) continue;
    if (current != 0) --histogram[current];
    ++histogram[o.code];
    changed = true;
  }
  if (!changed) return counts;
  histogram[0] = 0;
  return AttendanceCounts::FromHistogram(histogram);
}

ResolvedWindow Resolve(const Ctx& c, const v1::PolicyWindow& window, Day on) {
  WindowSpec spec;
  switch (window.kind()) {
    case v1::POLICY_TERM_TO_DATE:
      spec.kind = v1::CURRENT_TERM;
      break;
    case v1::POLICY_HALF_TERM_TO_DATE:
      spec.kind = v1::CURRENT_HALF_TERM;
      break;
    case v1::POLICY_ROLLING_SCHOOL_WEEKS:
      spec.kind = v1::ROLLING_SCHOOL_WEEKS;
      spec.weeks = window.weeks();
      break;
    default:
      spec.kind = v1::ACADEMIC_YEAR_TO_DATE;
      break;
  }
  return c.cache.Window(spec, on);
}

// The n-th school day after `day` (kNever if the calendar does not hold it).
Day AddSchoolDays(EvaluationCache& calendar, Day day, std::uint32_t n) {
  if (n == 0) return day;
  std::uint32_t found = 0;
  for (Day d = day + 1; d <= day + kMaxSchoolDaySearch; ++d) {
    if (calendar.IsSchoolDay(d) && ++found == n) return d;
  }
  return kNever;
}

const char* Symbol(v1::Comparison comparison) {
  switch (comparison) {
    case v1::BELOW:
      return "<";
    case v1::AT_OR_BELOW:
      return "<=";
    case v1::AT_OR_ABOVE:
      return ">=";
    case v1::ABOVE:
      return ">";
    default:
      return "?";
  }
}

std::string Percent(std::uint32_t attended, std::uint32_t possible) {
  if (possible == 0) return "n/a";
  return absl::StrFormat("%.1f%%", 100.0 * attended / possible);
}

void FillWindow(const ResolvedWindow& w, v1::Explanation* e) {
  e->set_window_label(w.label);
  if (!w.empty()) {
    e->set_window_first(ledger::FormatDate(w.first));
    e->set_window_last(ledger::FormatDate(w.last));
  }
}

v1::Explanation NewExplanation(const Ctx& c, const std::string& rule_id) {
  v1::Explanation e;
  e.set_policy_id(c.policy.policy_id());
  e.set_policy_version(c.policy.version());
  e.set_rule_id(rule_id);
  return e;
}

const char* ActionWord(v1::ActionKind action) {
  switch (action) {
    case v1::LETTER:
      return "letter";
    case v1::MEETING:
      return "meeting";
    case v1::HOME_VISIT:
      return "home visit";
    case v1::CALL:
      return "call";
    case v1::REFERRAL:
      return "referral";
    case v1::PENALTY_NOTICE_CONSIDERATION:
      return "penalty notice consideration";
    case v1::LA_RETURN:
      return "local authority return";
    case v1::RESOLVE_N_CODE:
      return "resolve or record O";
    case v1::CME_CHECKS:
      return "children-missing-education checks";
    case v1::REVIEW:
      return "review";
    case v1::REGISTER_NOT_TAKEN:
      return "register not taken";
    case v1::POSITIVE_LETTER:
      return "positive letter";
    default:
      return "action";
  }
}

ConditionResult EvaluateCondition(const Ctx& c, const v1::AttendanceCondition& condition, Day on,
                                  Day known) {
  ConditionResult r;
  r.window = Resolve(c, condition.window(), on);
  r.counts = CountsOf(c, r.window, known);
  r.holds = r.counts.possible > 0 && r.counts.possible >= condition.min_possible_sessions() &&
            Compare(r.counts.attended, r.counts.possible, condition.basis_points(),
                    condition.comparison());
  return r;
}

std::string ConditionSentence(const ConditionResult& r, const v1::AttendanceCondition& condition,
                              Day on, const std::string& outcome) {
  return absl::StrCat("attendance ", Percent(r.counts.attended, r.counts.possible), " (",
                      r.counts.attended, "/", r.counts.possible, " sessions, ", r.window.label,
                      ") on ", ledger::FormatDate(on), r.holds ? " " : " not ",
                      Symbol(condition.comparison()), " ",
                      FormatBasisPoints(condition.basis_points()), " -> ", outcome);
}

v1::Explanation ConditionExplanation(const Ctx& c, const std::string& rule_id,
                                     const ConditionResult& r,
                                     const v1::AttendanceCondition& condition, Day on,
                                     const std::string& outcome) {
  if (!c.in.explain) return {};
  v1::Explanation e = NewExplanation(c, rule_id);
  FillWindow(r.window, &e);
  e.set_possible(r.counts.possible);
  e.set_attended(r.counts.attended);
  e.set_basis_points(condition.basis_points());
  e.set_comparison(condition.comparison());
  e.set_sentence(ConditionSentence(r, condition, on, outcome));
  return e;
}

// More absent sessions that would make a BELOW / AT_OR_BELOW condition hold
// (0 if none would, within reason).
std::uint32_t SessionsToThreshold(const ConditionResult& r,
                                  const v1::AttendanceCondition& condition) {
  const std::uint64_t att = r.counts.attended;
  const std::uint64_t poss = r.counts.possible;
  const std::uint64_t bp = condition.basis_points();
  if (bp == 0 || poss == 0) return 0;
  for (std::uint64_t k = 1; k <= kNearMissSessions; ++k) {
    const bool holds = condition.comparison() == v1::BELOW         ? 10000 * att < bp * (poss + k)
                       : condition.comparison() == v1::AT_OR_BELOW ? 10000 * att <= bp * (poss + k)
                                                                   : false;
    if (holds && poss + k >= condition.min_possible_sessions()) {
      return static_cast<std::uint32_t>(k);
    }
  }
  return 0;
}

}  // namespace attendance::projections::escalation_internal
