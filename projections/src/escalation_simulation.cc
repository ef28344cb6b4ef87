// SimulatePolicy (escalation_reports.h): the school's history replayed
// under another policy beside its own and what was recorded, per half-term.
// The pattern is a microsimulation's reform: one population, two policies,
// the difference.
#include <algorithm>
#include <map>
#include <optional>
#include <thread>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "escalation_internal.h"
#include "ledger/escalation_policy.h"
#include "ledger/text_checks.h"
#include "projections/escalation_reports.h"

namespace attendance::projections {
namespace {

using TallyKey = std::pair<std::string, std::string>;  // (ladder id, rule id)
using Tallies = std::map<TallyKey, v1::RuleTally>;

struct HalfTerm {
  ledger::HalfTermSpan span;
  std::vector<Day> evaluation_days;  // the last school day of each school week
  Tallies simulated, baseline, actual;
};

// Every rule that can fall due, so a tally shows its zeros.
void SeedTallies(const v1::EscalationPolicy& policy, Tallies& tallies) {
  for (const v1::Ladder& ladder : policy.ladders()) {
    for (const v1::LadderStep& step : ladder.steps()) {
      v1::RuleTally& t = tallies[{ladder.ladder_id(), step.step_id()}];
      t.set_ladder_id(ladder.ladder_id());
      t.set_rule_id(step.step_id());
      t.set_action(step.action());
    }
  }
  for (const v1::CountedTrigger& trigger : policy.triggers()) {
    if (trigger.action() == v1::ACTION_KIND_UNSPECIFIED) continue;
    v1::RuleTally& t = tallies[{"", trigger.trigger_id()}];
    t.set_rule_id(trigger.trigger_id());
    t.set_action(trigger.action());
  }
  auto seed_rule = [&](const std::string& ladder, const std::string& rule, v1::ActionKind action) {
    v1::RuleTally& t = tallies[{ladder, rule}];
    t.set_ladder_id(ladder);
    t.set_rule_id(rule);
    t.set_action(action);
  };
  for (const v1::PreviousYearRule& rule : policy.previous_year_rules()) {
    seed_rule(rule.ladder_id(), rule.rule_id(), rule.action());
  }
  for (const v1::ImprovementRule& rule : policy.improvement_rules()) {
    seed_rule(rule.ladder_id(), rule.rule_id(), rule.action());
  }
}

v1::RuleTally& TallyOf(Tallies& tallies, const std::string& ladder, const std::string& rule,
                       v1::ActionKind action) {
  v1::RuleTally& t = tallies[{ladder, rule}];
  t.set_ladder_id(ladder);
  t.set_rule_id(rule);
  if (t.action() == v1::ACTION_KIND_UNSPECIFIED) t.set_action(action);
  return t;
}

// The ladder a recorded letter or action id belongs to in `policy`, with
// its action: a step's, or a previous-year or improvement rule's on a
// ladder (seed 001's September letter, a positive letter).
std::optional<std::pair<std::string, v1::ActionKind>> LadderOfStep(
    const v1::EscalationPolicy* policy, const std::string& step_id) {
  if (policy == nullptr || step_id.empty()) return std::nullopt;
  for (const v1::Ladder& ladder : policy->ladders()) {
    for (const v1::LadderStep& step : ladder.steps()) {
      if (step.step_id() == step_id) return std::make_pair(ladder.ladder_id(), step.action());
    }
  }
  for (const v1::PreviousYearRule& rule : policy->previous_year_rules()) {
    if (rule.rule_id() == step_id && !rule.ladder_id().empty()) {
      return std::make_pair(rule.ladder_id(), rule.action());
    }
  }
  for (const v1::ImprovementRule& rule : policy->improvement_rules()) {
    if (rule.rule_id() == step_id && !rule.ladder_id().empty()) {
      return std::make_pair(rule.ladder_id(), rule.action());
    }
  }
  return std::nullopt;
}

// The stage (step index, -1 for none) `ladder` is at by the end of `by`, as
// the evaluation's EvaluateLadder folds the letters and actions in log
// order: a step's letter or action does it (the furthest stays the stage),
// a previous-year rule's letter does its step, and an improvement rule's
// letter that steps down takes the stage to its after_step.
int StageBy(const v1::EscalationPolicy& policy, const v1::Ladder& ladder,
            const std::vector<LetterFact>& letters, const std::vector<ActionFact>& actions,
            Day by) {
  struct Fact {
    const std::string* id;
    ledger::Position position;
  };
  std::vector<Fact> facts;
  for (const LetterFact& l : letters) {
    if (l.sent_on <= by) facts.push_back({&l.letter_id, l.position});
  }
  for (const ActionFact& a : actions) {
    if (a.happened_on <= by && !a.step_id.empty()) facts.push_back({&a.step_id, a.position});
  }
  std::stable_sort(facts.begin(), facts.end(),
                   [](const Fact& a, const Fact& b) { return a.position < b.position; });
  auto index_of = [&](const std::string& id) {
    for (int i = 0; i < ladder.steps_size(); ++i) {
      if (ladder.steps(i).step_id() == id) return i;
    }
    return -1;
  };
  int stage = -1;
  for (const Fact& fact : facts) {
    int i = index_of(*fact.id);
    if (i < 0) {
      i = index_of(escalation_internal::PreviousYearStep(policy, ladder.ladder_id(), *fact.id));
    }
    if (i < 0 && stage >= 0) {
      const v1::LadderStep& at = ladder.steps(stage);
      if (escalation_internal::StepDownRule(policy, ladder.ladder_id(), *fact.id, at.step_id()) !=
          nullptr) {
        stage = at.after_step().empty() ? -1 : index_of(at.after_step());
      }
      continue;
    }
    stage = std::max(stage, i);
  }
  return stage;
}

// Adds each ladder's stage by `by` to pupils_at_stage.
void TallyStages(const v1::EscalationPolicy& policy, const std::vector<LetterFact>& letters,
                 const std::vector<ActionFact>& actions, Day by, Tallies& tallies) {
  for (const v1::Ladder& ladder : policy.ladders()) {
    const int stage = StageBy(policy, ladder, letters, actions, by);
    if (stage < 0) continue;
    const v1::LadderStep& step = ladder.steps(stage);
    v1::RuleTally& t = TallyOf(tallies, ladder.ladder_id(), step.step_id(), step.action());
    t.set_pupils_at_stage(t.pupils_at_stage() + 1);
  }
}

// One pupil under one policy (or, with policy null, under the school's own
// in force on each day): each week's due steps and trigger actions done.
void SimulatePupil(const EscalationState& state, const std::string& school_id, EscalationInputs in,
                   const v1::EscalationPolicy* policy, std::vector<HalfTerm>& half_terms,
                   bool baseline) {
  std::vector<LetterFact> letters;
  std::vector<ActionFact> actions;
  in.letters = &letters;
  in.actions = &actions;
  in.amendments = nullptr;  // the marks as they stand; nothing to supersede
  ledger::Position position = 0;
  Day evaluated = 0;  // the previous evaluation day
  for (HalfTerm& h : half_terms) {
    Tallies& tallies = baseline ? h.baseline : h.simulated;
    const v1::EscalationPolicy* last_policy = policy;
    for (Day d : h.evaluation_days) {
      // Only the weeks the pupil was on roll for some of (a third of a
      // three-year span's pupil-weeks are before an intake joined or after
      // a year left): nothing is done for a pupil off the roll.
      const Day since = evaluated == 0 ? d - 6 : evaluated + 1;
      evaluated = d;
      if (in.pupil != nullptr && !in.pupil->OnRollDuring(since, d, in.known_through)) continue;
      const v1::EscalationPolicy* p = policy;
      if (p == nullptr) {
        const PolicyRecord* record = state.PolicyForEvaluation(school_id, d);
        if (record == nullptr) continue;
        p = &record->policy;
      }
      last_policy = p;
      in.policy = p;
      const v1::PupilEscalation result = EvaluatePupil(in, d);
      for (const v1::DueAction& due : result.due()) {
        if (due.action() == v1::REVIEW || due.action() == v1::REGISTER_NOT_TAKEN) continue;
        ++position;
        if (!due.ladder_id().empty()) {
          letters.push_back({due.rule_id(), d, position});
        } else {
          ActionFact a;
          a.action_id = absl::StrCat("simulated-", position);
          a.trigger_id = due.rule_id();
          a.happened_on = d;
          a.position = position;
          actions.push_back(std::move(a));
        }
        v1::RuleTally& t = TallyOf(tallies, due.ladder_id(), due.rule_id(), due.action());
        t.set_due(t.due() + 1);
      }
    }
    if (last_policy != nullptr && !h.evaluation_days.empty()) {
      TallyStages(*last_policy, letters, actions, h.evaluation_days.back(), tallies);
    }
  }
}

// One pupil simulated under `policy` and under the school's own, and what
// was recorded for it, added to `half_terms`.
void SimulateRecorded(const EscalationState& state, const std::string& school_id,
                      const PupilState& pupil, const ledger::SchoolCalendar& calendar,
                      const v1::SchoolSettings& settings, EvaluationCache& cache, Day known, Day to,
                      const v1::EscalationPolicy& policy, std::vector<HalfTerm>& half_terms) {
  ledger::SchoolCalendar unused;
  EscalationInputs in = state.InputsFor(school_id, pupil.id, known, &unused);
  in.calendar = &calendar;
  in.settings = settings;
  in.cache = &cache;
  in.known_through = known;
  in.due_only = true;
  in.explain = false;  // only the due actions' rules are tallied
  SimulatePupil(state, school_id, in, &policy, half_terms, false);
  SimulatePupil(state, school_id, in, nullptr, half_terms, true);
  // What was recorded: letters and actions by the half-term of their day.
  static const std::vector<LetterFact> kNoLetters;
  static const std::vector<ActionFact> kNoActions;
  const std::vector<LetterFact>& letters = in.letters ? *in.letters : kNoLetters;
  const std::vector<ActionFact>& actions = in.actions ? *in.actions : kNoActions;
  for (HalfTerm& h : half_terms) {
    const v1::EscalationPolicy* own = nullptr;
    if (const PolicyRecord* r = state.PolicyForEvaluation(school_id, h.span.last)) {
      own = &r->policy;
    }
    auto in_span = [&](Day d) { return d >= h.span.first && d <= h.span.last && d <= to; };
    for (const LetterFact& l : letters) {
      if (!in_span(l.sent_on)) continue;
      const auto ladder = LadderOfStep(own, l.letter_id);
      v1::RuleTally& t = TallyOf(h.actual, ladder ? ladder->first : "", l.letter_id,
                                 ladder ? ladder->second : v1::LETTER);
      t.set_due(t.due() + 1);
    }
    for (const ActionFact& a : actions) {
      if (!in_span(a.happened_on)) continue;
      const std::string& rule = !a.step_id.empty() ? a.step_id : a.trigger_id;
      if (rule.empty()) continue;
      const auto ladder = LadderOfStep(own, a.step_id);
      v1::RuleTally& t = TallyOf(h.actual, ladder ? ladder->first : "", rule,
                                 ladder ? ladder->second : v1::ACTION_KIND_UNSPECIFIED);
      t.set_due(t.due() + 1);
    }
    if (own != nullptr) {
      TallyStages(*own, letters, actions, std::min(h.span.last, to), h.actual);
    }
  }
}

// Adds one share's tallies into the whole's (a share starts from the
// whole's seeded zeros, so every key is in both or only in the share).
void AddTallies(const Tallies& share, Tallies& whole) {
  for (const auto& [key, t] : share) {
    auto [it, inserted] = whole.try_emplace(key, t);
    if (inserted) continue;
    v1::RuleTally& w = it->second;
    if (w.action() == v1::ACTION_KIND_UNSPECIFIED) w.set_action(t.action());
    w.set_due(w.due() + t.due());
    w.set_pupils_at_stage(w.pupils_at_stage() + t.pupils_at_stage());
  }
}

// Threads for a simulation of this many pupils: up to 4 (the machine's
// cores), none extra for a small school.
unsigned SimulationThreads(std::size_t pupils) {
  if (pupils < 200) return 1;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return std::min({cores, 4u, static_cast<unsigned>(pupils / 100)});
}

}  // namespace

absl::StatusOr<v1::SimulatePolicyResponse> SimulatePolicy(const EscalationState& state,
                                                          const v1::SimulatePolicyRequest& request,
                                                          Day today, unsigned threads_wanted) {
  if (absl::Status s = ledger::CheckId(request.school_id(), "school_id"); !s.ok()) return s;
  const SchoolState* school = state.attendance().FindSchool(request.school_id());
  if (school == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("school_id: ", ledger::Quoted(request.school_id()), " is not a known school"));
  }
  if (!request.has_policy()) {
    return absl::InvalidArgumentError("policy: required (the policy to simulate)");
  }
  Day to = today;
  if (!request.to().empty()) {
    absl::StatusOr<Day> day = ledger::CheckDate(request.to(), "to");
    if (!day.ok()) return day.status();
    to = *day;
  }
  Day from = ledger::AcademicYearStart(ledger::AcademicYearOf(to));
  if (!request.from().empty()) {
    absl::StatusOr<Day> day = ledger::CheckDate(request.from(), "from");
    if (!day.ok()) return day.status();
    from = *day;
  }
  if (from > to) {
    return absl::InvalidArgumentError(absl::StrCat("from: ", ledger::FormatDate(from),
                                                   " is after to (", ledger::FormatDate(to), ")"));
  }
  const int years = ledger::AcademicYearOf(to) - ledger::AcademicYearOf(from) + 1;
  if (years > kMaxSimulationAcademicYears) {
    return absl::InvalidArgumentError(absl::StrCat(
        "from: ", ledger::FormatDate(from), " to ", ledger::FormatDate(to), " spans ", years,
        " academic years, more than the limit of ", kMaxSimulationAcademicYears));
  }
  // The history as it stands today (hindsight): the calendar, settings and
  // marks known now, so that history imported later replays too.
  const Day known = std::max(today, to);
  const v1::SchoolSettings settings = school->SettingsAsOf(known);
  if (absl::Status s =
          ledger::ValidateEscalationPolicy(request.policy(), RollingWeeksOf(settings), "policy");
      !s.ok()) {
    return s;
  }
  ledger::SchoolCalendar scratch;
  const ledger::SchoolCalendar& calendar = school->CalendarAsOf(known, &scratch);
  std::vector<HalfTerm> half_terms;
  std::uint64_t days = 0;
  for (int y = ledger::AcademicYearOf(from); y <= ledger::AcademicYearOf(to); ++y) {
    for (const ledger::HalfTermSpan& span : calendar.HalfTerms(y)) {
      if (span.last < from || span.first > to) continue;
      HalfTerm h;
      h.span = span;
      const Day last = std::min(span.last, to);
      for (Day d = std::max(span.first, from); d <= last; ++d) {
        if (!calendar.IsSchoolDay(d)) continue;
        // The last school day of its week (Monday 0 .. Sunday 6) or of the span.
        bool last_of_week = true;
        for (Day e = d + 1; e <= last && ledger::Weekday(e) > ledger::Weekday(d); ++e) {
          if (calendar.IsSchoolDay(e)) last_of_week = false;
        }
        if (last_of_week) h.evaluation_days.push_back(d);
      }
      days += h.evaluation_days.size();
      SeedTallies(request.policy(), h.simulated);
      half_terms.push_back(std::move(h));
    }
  }
  std::vector<const PupilState*> pupils;
  for (const PupilState& pupil : school->pupils) {
    if (pupil.OnRollDuring(from, to, known)) pupils.push_back(&pupil);
  }
  const std::uint64_t evaluations = 2 * days * pupils.size();
  if (evaluations > kMaxSimulationEvaluations) {
    return absl::InvalidArgumentError(absl::StrCat(
        "from, to: ", pupils.size(), " pupils x ", days,
        " school weeks x 2 policies = ", evaluations, " evaluations, more than the limit of ",
        kMaxSimulationEvaluations, "; simulate fewer half-terms"));
  }
  for (HalfTerm& h : half_terms) {
    const PolicyRecord* own = state.PolicyForEvaluation(request.school_id(), h.span.last);
    if (own != nullptr) SeedTallies(own->policy, h.baseline);
  }
  // Pupils are independent: they are shared out among a few threads, each
  // with its own calendar answers and tallies, added together after.
  const unsigned threads = threads_wanted != 0 ? threads_wanted : SimulationThreads(pupils.size());
  std::vector<std::vector<HalfTerm>> shares(threads, half_terms);
  auto simulate_share = [&](unsigned share) {
    std::vector<HalfTerm>& mine = shares[share];
    EvaluationCache cache(calendar);
    for (std::size_t i = share; i < pupils.size(); i += threads) {
      SimulateRecorded(state, request.school_id(), *pupils[i], calendar, settings, cache, known, to,
                       request.policy(), mine);
    }
  };
  if (threads == 1) {
    simulate_share(0);
  } else {
    std::vector<std::thread> running;
    for (unsigned t = 1; t < threads; ++t) running.emplace_back(simulate_share, t);
    simulate_share(0);
    for (std::thread& t : running) t.join();
  }
  for (const std::vector<HalfTerm>& share : shares) {
    for (std::size_t h = 0; h < half_terms.size(); ++h) {
      AddTallies(share[h].simulated, half_terms[h].simulated);
      AddTallies(share[h].baseline, half_terms[h].baseline);
      AddTallies(share[h].actual, half_terms[h].actual);
    }
  }
  v1::SimulatePolicyResponse response;
  response.set_policy_id(request.policy().policy_id());
  response.set_policy_version(request.policy().version());
  if (const PolicyRecord* own = state.PolicyForEvaluation(request.school_id(), to)) {
    response.set_baseline_policy_version(own->policy.version());
  }
  response.set_pupils(static_cast<std::uint32_t>(pupils.size()));
  response.set_method(
      "each pupil on roll in the period, evaluated at the end of each school week; every "
      "ladder step and trigger action due then is taken as done that day (the next step "
      "follows from it); the same for the school's own policy in force on each day; actual = "
      "letters sent and actions recorded, by the half-term of their day");
  for (HalfTerm& h : half_terms) {
    v1::HalfTermSimulation& out = *response.add_half_terms();
    out.set_half_term(h.span.half_term);
    out.set_academic_year(AcademicYearLabel(h.span.academic_year));
    out.set_first(ledger::FormatDate(h.span.first));
    out.set_last(ledger::FormatDate(h.span.last));
    for (auto& [key, t] : h.simulated) *out.add_simulated() = std::move(t);
    for (auto& [key, t] : h.baseline) *out.add_baseline() = std::move(t);
    for (auto& [key, t] : h.actual) *out.add_actual() = std::move(t);
  }
  return response;
}

}  // namespace attendance::projections
