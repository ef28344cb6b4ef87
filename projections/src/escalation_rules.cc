// Review points on dates, improvement rules (positive letters, stepping
// down) and cohort rules (vulnerable pupils first) (escalation_internal.h).
#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "escalation_internal.h"

namespace attendance::projections::escalation_internal {
namespace {

// The first school day on or after `day`, looking a month ahead (a review
// date in a holiday falls on the day school resumes).
std::optional<Day> SchoolDayFrom(const Ctx& c, Day day) {
  for (Day d = day; d < day + 31; ++d) {
    if (c.cache.IsSchoolDay(d)) return d;
  }
  return std::nullopt;
}

// The last school day in [first, last].
std::optional<Day> LastSchoolDay(const Ctx& c, Day first, Day last) {
  for (Day d = last; d >= first; --d) {
    if (c.cache.IsSchoolDay(d)) return d;
  }
  return std::nullopt;
}

const v1::ReviewPoint* FindReview(const v1::EscalationPolicy& policy, const std::string& id) {
  for (const v1::ReviewPoint& r : policy.review_points()) {
    if (r.review_id() == id) return &r;
  }
  return nullptr;
}

const v1::Ladder* FindLadder(const v1::EscalationPolicy& policy, const std::string& id) {
  for (const v1::Ladder& l : policy.ladders()) {
    if (l.ladder_id() == id) return &l;
  }
  return nullptr;
}

const v1::LadderState* StateOf(const v1::PupilEscalation& out, const std::string& ladder_id) {
  for (const v1::LadderState& l : out.ladders()) {
    if (l.ladder_id() == ladder_id) return &l;
  }
  return nullptr;
}

Day DateOf(const std::string& text) { return ledger::ParseDate(text).value_or(0); }

}  // namespace

// A letter (letter_id) or action (step_id) with this id done in [from, to];
// also an action naming it as its trigger_id, as SimulatePolicy does a due
// action that is on no ladder.
bool DoneBetween(const EscalationInputs& in, const std::string& id, Day from, Day to) {
  if (in.letters != nullptr) {
    for (const LetterFact& l : *in.letters) {
      if (l.letter_id == id && l.sent_on >= from && l.sent_on <= to) return true;
    }
  }
  if (in.actions != nullptr) {
    for (const ActionFact& a : *in.actions) {
      if ((a.step_id == id || a.trigger_id == id) && a.happened_on >= from && a.happened_on <= to) {
        return true;
      }
    }
  }
  return false;
}

namespace {

// The day the pupil first reached a stage of the ladder, if by `on`.
std::optional<Day> JoinedLadder(const v1::LadderState& state, Day on) {
  std::optional<Day> first;
  for (const v1::StageRecord& r : state.history()) {
    const Day d = DateOf(r.sent_on());
    if (d <= on && !r.stepped_down()) first = std::min(first.value_or(d), d);
  }
  return first;
}

int Priority(std::int32_t own, const v1::Ladder* ladder) {
  return own != 0 || ladder == nullptr ? own : ladder->priority();
}

struct BandResult {
  const v1::Band* band = nullptr;
  AttendanceCounts counts;
  ResolvedWindow window;
};

BandResult BandOn(const Ctx& c, const v1::BandSet& set, Day on) {
  BandResult r;
  r.window = Resolve(c, set.window(), on);
  r.counts = CountsOf(c, r.window, c.known);
  if (r.counts.possible == 0) return r;
  const std::uint64_t scaled = 10000ull * r.counts.attended;
  for (const v1::Band& band : set.bands()) {
    const std::uint64_t lo = std::uint64_t{band.lower_basis_points()} * r.counts.possible;
    const std::uint64_t hi = std::uint64_t{band.upper_basis_points()} * r.counts.possible;
    const bool above_lower = band.lower_inclusive() ? scaled >= lo : scaled > lo;
    const bool below_upper = band.upper_inclusive() ? scaled <= hi : scaled < hi;
    if (above_lower && below_upper) r.band = &band;
  }
  return r;
}

bool InCohort(const v1::Pupil& p, v1::PupilCohort cohort) {
  switch (cohort) {
    case v1::COHORT_CHILD_PROTECTION_PLAN:
      return p.child_protection_plan();
    case v1::COHORT_CHILD_IN_NEED:
      return p.child_in_need();
    case v1::COHORT_LOOKED_AFTER:
      return p.looked_after();
    case v1::COHORT_SEND:
      return p.send() == v1::SEN_SUPPORT || p.send() == v1::EHC_PLAN;
    default:
      return false;
  }
}

const char* CohortWord(v1::PupilCohort cohort) {
  switch (cohort) {
    case v1::COHORT_CHILD_PROTECTION_PLAN:
      return "child-protection plan";
    case v1::COHORT_CHILD_IN_NEED:
      return "child in need";
    case v1::COHORT_LOOKED_AFTER:
      return "looked after";
    case v1::COHORT_SEND:
      return "SEND";
    default:
      return "cohort";
  }
}

// The cohorts of `rule` the pupil is in on as_of, as words ("" = none).
std::string MatchedCohorts(const Ctx& c, const v1::CohortRule& rule) {
  if (c.in.pupil == nullptr) return "";
  const v1::Pupil* details = c.in.pupil->AttributesAt(c.as_of, c.as_of);
  if (details == nullptr) return "";
  std::vector<std::string> words;
  for (int cohort : rule.cohorts()) {
    const auto k = static_cast<v1::PupilCohort>(cohort);
    if (InCohort(*details, k)) words.emplace_back(CohortWord(k));
  }
  return absl::StrJoin(words, ", ");
}

}  // namespace

std::vector<Day> ReviewDays(const Ctx& c, const v1::ReviewPoint& review, Day until) {
  std::vector<Day> days;
  const int year = ledger::AcademicYearOf(until);
  for (int y = year - 1; y <= year; ++y) {
    for (const std::string& month_day : review.dates()) {
      const int month = std::stoi(month_day.substr(0, 2));
      const int calendar_year = month >= 9 ? y : y + 1;
      const std::optional<Day> date =
          ledger::ParseDate(absl::StrFormat("%04d-%s", calendar_year, month_day));
      if (!date) continue;  // 29 February in a common year
      if (const std::optional<Day> d = SchoolDayFrom(c, *date)) days.push_back(*d);
    }
    if (!review.half_term_ends() && !review.term_ends()) continue;
    if (c.in.calendar == nullptr) continue;
    const std::vector<ledger::HalfTermSpan> spans = c.in.calendar->HalfTerms(y);
    for (std::size_t i = 0; i < spans.size(); ++i) {
      const bool term_end = i + 1 == spans.size() || spans[i + 1].term != spans[i].term;
      if (!review.half_term_ends() && !term_end) continue;
      if (const std::optional<Day> d = LastSchoolDay(c, spans[i].first, spans[i].last)) {
        days.push_back(*d);
      }
    }
  }
  std::sort(days.begin(), days.end());
  days.erase(std::unique(days.begin(), days.end()), days.end());
  days.erase(std::upper_bound(days.begin(), days.end(), until), days.end());
  return days;
}

// The improvement rule with this id on this ladder that steps down from
// `stage_step` (null if none).
const v1::ImprovementRule* StepDownRule(const v1::EscalationPolicy& policy,
                                        const std::string& ladder_id, const std::string& rule_id,
                                        const std::string& stage_step) {
  for (const v1::ImprovementRule& rule : policy.improvement_rules()) {
    if (rule.rule_id() != rule_id || !rule.step_down() || rule.ladder_id() != ladder_id) continue;
    if (!rule.from_steps().empty() && std::find(rule.from_steps().begin(), rule.from_steps().end(),
                                                stage_step) == rule.from_steps().end()) {
      return nullptr;
    }
    return &rule;
  }
  return nullptr;
}

void EvaluateReviewPoints(const Ctx& c, v1::PupilEscalation& out) {
  for (const v1::ReviewPoint& review : c.policy.review_points()) {
    if (review.ladder_id().empty()) continue;  // it only times improvement rules
    const v1::LadderState* state = StateOf(out, review.ladder_id());
    if (state == nullptr || state->stage().empty()) continue;
    const std::vector<Day> days = ReviewDays(c, review, c.as_of);
    if (days.empty()) continue;
    const Day on = days.back();
    const std::optional<Day> joined = JoinedLadder(*state, on);
    if (!joined) continue;  // not on the ladder at the review point
    bool answered = false;
    if (c.in.actions != nullptr) {
      for (const ActionFact& a : *c.in.actions) {
        answered = answered || (a.trigger_id == review.review_id() && a.happened_on >= on &&
                                a.happened_on <= c.as_of);
      }
    }
    if (answered) continue;
    // Improvement since the previous review point, or since the pupil
    // joined the ladder if later (seed 001: "from September baseline or any
    // of the 5 review points").
    Day baseline = *joined;
    const char* baseline_word = "joined the ladder";
    if (days.size() >= 2 && days[days.size() - 2] > baseline) {
      baseline = days[days.size() - 2];
      baseline_word = "the previous review point";
    }
    v1::PolicyWindow ytd;
    ytd.set_kind(v1::POLICY_YEAR_TO_DATE);
    const ResolvedWindow w1 = Resolve(c, ytd, on);
    const ResolvedWindow w0 = Resolve(c, ytd, baseline);
    const AttendanceCounts a1 = CountsOf(c, w1, c.known);
    const AttendanceCounts a0 = CountsOf(c, w0, c.known);
    const bool improved =
        a0.possible > 0 && a1.possible > 0 &&
        std::uint64_t{a1.attended} * a0.possible > std::uint64_t{a0.attended} * a1.possible;
    const v1::Ladder* ladder = FindLadder(c.policy, review.ladder_id());
    v1::DueAction& due = *out.add_due();
    due.set_pupil_id(c.in.pupil_id);
    due.set_rule_id(review.review_id());
    due.set_ladder_id(review.ladder_id());
    due.set_action(v1::REVIEW);
    due.set_due_on(ledger::FormatDate(on));
    due.set_priority(Priority(review.priority(), ladder));
    if (!c.in.explain) continue;
    v1::Explanation& e = *due.mutable_explanation();
    e = NewExplanation(c, review.review_id());
    FillWindow(w1, &e);
    e.set_possible(a1.possible);
    e.set_attended(a1.attended);
    e.set_comparison(v1::ABOVE);
    if (a0.possible > 0) {
      e.set_basis_points(static_cast<std::uint32_t>(10000ull * a0.attended / a0.possible));
    }
    e.set_sentence(absl::StrCat(
        "review point ", review.review_id(), " on ", ledger::FormatDate(on), ": year to date ",
        Percent(a1.attended, a1.possible), " (", a1.attended, "/", a1.possible, ")",
        improved ? " > " : " not > ", Percent(a0.attended, a0.possible), " (", a0.attended, "/",
        a0.possible, ") on ", ledger::FormatDate(baseline), " (", baseline_word, ") -> ",
        improved ? "improved" : "no improvement", "; stage ", state->stage(), " since ",
        state->since(), " -> review due"));
  }
}

void EvaluateImprovements(const Ctx& c, v1::PupilEscalation& out) {
  for (const v1::ImprovementRule& rule : c.policy.improvement_rules()) {
    const v1::Ladder* ladder = nullptr;
    const v1::LadderState* state = nullptr;
    if (!rule.ladder_id().empty()) {
      ladder = FindLadder(c.policy, rule.ladder_id());
      state = StateOf(out, rule.ladder_id());
      if (ladder == nullptr || state == nullptr || state->stage().empty()) continue;
      if (!rule.from_steps().empty() &&
          std::find(rule.from_steps().begin(), rule.from_steps().end(), state->stage()) ==
              rule.from_steps().end()) {
        continue;
      }
    }
    Day on = c.as_of;
    if (!rule.review_id().empty()) {
      const v1::ReviewPoint* review = FindReview(c.policy, rule.review_id());
      if (review == nullptr) continue;
      const std::vector<Day> days = ReviewDays(c, *review, c.as_of);
      if (days.empty()) continue;
      on = days.back();
    }
    const Day since = state != nullptr ? DateOf(state->since()) : 0;
    if (state != nullptr && since > on) continue;  // reached its stage after the review point
    // Sent since the stage was reached (or since the review point): done.
    const Day answered_from = rule.review_id().empty() ? since : on;
    if (DoneBetween(c.in, rule.rule_id(), answered_from, c.as_of)) continue;
    const std::string outcome = absl::StrCat(
        rule.rule_id(), " due",
        rule.step_down() && state != nullptr
            ? absl::StrCat("; sending it steps ", rule.ladder_id(), " down from ", state->stage())
            : "");
    std::optional<v1::Explanation> explanation;
    bool holds = true;
    if (rule.has_attendance()) {
      // On a ladder, only the sessions after the stage was reached count:
      // improvement is judged since the step, not over the absences that
      // led to it.
      ConditionResult r;
      r.window = Resolve(c, rule.attendance().window(), on);
      if (state != nullptr && r.window.first <= since) {
        r.window.first = since + 1;
        if (c.in.explain) r.window.label = absl::StrCat(r.window.label, " since ", state->stage());
      }
      r.counts = CountsOf(c, r.window, c.known);
      r.holds = r.counts.possible > 0 &&
                r.counts.possible >= rule.attendance().min_possible_sessions() &&
                Compare(r.counts.attended, r.counts.possible, rule.attendance().basis_points(),
                        rule.attendance().comparison());
      holds = r.holds;
      explanation = ConditionExplanation(c, rule.rule_id(), r, rule.attendance(), on, outcome);
    }
    if (holds && !rule.band_set_id().empty()) {
      for (const v1::BandSet& set : c.policy.band_sets()) {
        if (set.band_set_id() != rule.band_set_id()) continue;
        const BandResult b = BandOn(c, set, on);
        holds = b.band != nullptr && std::find(rule.band_ids().begin(), rule.band_ids().end(),
                                               b.band->band_id()) != rule.band_ids().end();
        if (!c.in.explain) continue;
        const std::string sentence = absl::StrCat(
            "attendance ", Percent(b.counts.attended, b.counts.possible), " (", b.counts.attended,
            "/", b.counts.possible, " sessions, ", b.window.label, ") on ", ledger::FormatDate(on),
            " in band ", b.band == nullptr ? "none" : b.band->band_id(), " of ", set.band_set_id(),
            " -> ", outcome);
        if (!explanation) {
          explanation = NewExplanation(c, rule.rule_id());
          FillWindow(b.window, &*explanation);
          explanation->set_possible(b.counts.possible);
          explanation->set_attended(b.counts.attended);
          if (b.band != nullptr) explanation->set_basis_points(b.band->lower_basis_points());
          explanation->set_sentence(sentence);
        } else {
          // Both hold: the band after the attendance comparison.
          std::string first = explanation->sentence();
          first = first.substr(0, first.rfind(" -> "));
          explanation->set_sentence(absl::StrCat(first, "; ", sentence));
        }
      }
    }
    if (!holds) continue;
    v1::DueAction& due = *out.add_due();
    due.set_pupil_id(c.in.pupil_id);
    due.set_rule_id(rule.rule_id());
    due.set_ladder_id(rule.ladder_id());
    due.set_action(rule.action());
    due.set_due_on(ledger::FormatDate(on));
    due.set_priority(Priority(rule.priority(), ladder));
    if (explanation) *due.mutable_explanation() = std::move(*explanation);
  }
}

std::optional<std::uint32_t> CohortThreshold(const Ctx& c, const v1::CountedTrigger& t,
                                             std::string* words, std::string* rule_id) {
  std::optional<std::uint32_t> lowest;
  for (const v1::CohortRule& rule : c.policy.cohort_rules()) {
    for (const v1::TriggerThreshold& e : rule.earlier_triggers()) {
      if (e.trigger_id() != t.trigger_id() || e.threshold() >= lowest.value_or(t.threshold())) {
        continue;
      }
      const std::string matched = MatchedCohorts(c, rule);
      if (matched.empty()) continue;
      lowest = e.threshold();
      *rule_id = rule.rule_id();
      *words = absl::StrCat("cohort rule ", rule.rule_id(), " (", matched, "): threshold ",
                            e.threshold(), " instead of ", t.threshold());
    }
  }
  return lowest;
}

void ApplyCohortRules(const Ctx& c, v1::PupilEscalation& out) {
  for (const v1::CohortRule& rule : c.policy.cohort_rules()) {
    if (rule.priority_boost() == 0) continue;
    const std::string matched = MatchedCohorts(c, rule);
    if (matched.empty()) continue;
    auto boost = [&](v1::DueAction& due) {
      if (std::find(rule.actions().begin(), rule.actions().end(), due.action()) ==
          rule.actions().end()) {
        return;
      }
      due.set_priority(due.priority() + rule.priority_boost());
      if (std::find(due.cohort_rules().begin(), due.cohort_rules().end(), rule.rule_id()) ==
          due.cohort_rules().end()) {
        due.add_cohort_rules(rule.rule_id());
      }
      if (!c.in.explain) return;
      v1::Explanation& e = *due.mutable_explanation();
      e.set_sentence(absl::StrCat(e.sentence(), "; priority ", due.priority(), " (",
                                  rule.priority_boost() > 0 ? "+" : "", rule.priority_boost(),
                                  ", cohort rule ", rule.rule_id(), ": ", matched, ")"));
    };
    for (v1::DueAction& due : *out.mutable_due()) boost(due);
    for (v1::DueAction& due : *out.mutable_superseded()) boost(due);
  }
}

}  // namespace attendance::projections::escalation_internal
