// Ladders with their monitoring periods, bands, and the reviews of meetings
// (escalation_internal.h).
#include <algorithm>
#include <functional>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "escalation_internal.h"

namespace attendance::projections::escalation_internal {

struct Monitoring {
  Day start = 0;
  Day end = kNever;
  bool ended = false;
  bool improved = false;
  v1::Explanation explanation;
};

Monitoring EvaluateMonitoring(const Ctx& c, const v1::LadderStep& step, Day start) {
  Monitoring m;
  m.start = start;
  m.end = AddSchoolDays(c.cache, start, step.monitoring_school_days());
  m.ended = m.end != kNever && m.end <= c.as_of;
  if (c.in.explain) m.explanation = NewExplanation(c, step.step_id());
  const Day until = std::min(m.end, c.as_of);
  if (step.improvement_kind() == v1::PERIOD_ATTENDANCE_MEETS) {
    ResolvedWindow w;
    w.first = start + 1;
    w.last = until;
    const AttendanceCounts counts = CountsOf(c, w, c.known);
    m.improved = counts.possible > 0 &&
                 Compare(counts.attended, counts.possible, step.improvement().basis_points(),
                         step.improvement().comparison());
    if (!c.in.explain) return m;
    w.label = absl::StrCat("monitoring after ", step.step_id());
    FillWindow(w, &m.explanation);
    m.explanation.set_possible(counts.possible);
    m.explanation.set_attended(counts.attended);
    m.explanation.set_basis_points(step.improvement().basis_points());
    m.explanation.set_comparison(step.improvement().comparison());
    m.explanation.set_sentence(
        absl::StrCat("attendance ", Percent(counts.attended, counts.possible), " (",
                     counts.attended, "/", counts.possible, " sessions, ", w.label, ", ",
                     ledger::FormatDate(w.first), "..", ledger::FormatDate(w.last), ")",
                     m.improved ? " " : " not ", Symbol(step.improvement().comparison()), " ",
                     FormatBasisPoints(step.improvement().basis_points()), " -> ",
                     m.ended ? (m.improved ? "improved" : "no improvement") : "monitoring runs to ",
                     m.ended ? ""
                             : (m.end == kNever ? "a date the calendar does not hold yet"
                                                : ledger::FormatDate(m.end))));
    return m;
  }
  v1::PolicyWindow ytd;
  ytd.set_kind(v1::POLICY_YEAR_TO_DATE);
  const ResolvedWindow w0 = Resolve(c, ytd, start);
  const ResolvedWindow w1 = Resolve(c, ytd, until);
  const AttendanceCounts a0 = CountsOf(c, w0, c.known);
  const AttendanceCounts a1 = CountsOf(c, w1, c.known);
  m.improved = a0.possible > 0 && a1.possible > 0 &&
               std::uint64_t{a1.attended} * a0.possible > std::uint64_t{a0.attended} * a1.possible;
  if (!c.in.explain) return m;
  FillWindow(w1, &m.explanation);
  m.explanation.set_possible(a1.possible);
  m.explanation.set_attended(a1.attended);
  m.explanation.set_sentence(
      absl::StrCat("year to date ", Percent(a1.attended, a1.possible), " (", a1.attended, "/",
                   a1.possible, ") on ", ledger::FormatDate(until), m.improved ? " > " : " not > ",
                   Percent(a0.attended, a0.possible), " (", a0.attended, "/", a0.possible, ") on ",
                   ledger::FormatDate(start), " -> ",
                   m.ended ? (m.improved ? "improved" : "no improvement") : "monitoring runs to ",
                   m.ended ? ""
                           : (m.end == kNever ? "a date the calendar does not hold yet"
                                              : ledger::FormatDate(m.end))));
  return m;
}

const v1::CountedTrigger* FindTrigger(const v1::EscalationPolicy& policy, const std::string& id) {
  for (const v1::CountedTrigger& t : policy.triggers()) {
    if (t.trigger_id() == id) return &t;
  }
  return nullptr;
}

// The outlook of a monitoring period still running: how many more absent
// sessions by its end would leave it without improvement, so that `step`
// (no_improvement after it) falls due ("3 more absent sessions by
// 2025-11-14 -> letter_2 due"); the next sessions taken as school sessions
// of the calendar. Null when no number of absences could (or every one
// would) decide it, or the end is not in the calendar yet.
std::optional<v1::NearMiss> MonitoringOutlook(const Ctx& c, const v1::Ladder& ladder,
                                              const v1::LadderStep& monitored,
                                              const v1::LadderStep& step, const Monitoring& m) {
  if (m.end == kNever || m.ended) return std::nullopt;
  std::uint32_t to_go = 0;  // sessions after as_of, through the end
  for (Day d = c.as_of + 1; d <= m.end; ++d) {
    if (c.cache.IsSchoolDay(d)) to_go += 2;
  }
  if (to_go == 0) return std::nullopt;
  // improved(k): the verdict if k of the sessions to go are absent.
  std::function<bool(std::uint32_t)> improved;
  ResolvedWindow w;
  AttendanceCounts so_far;
  std::string needed;
  if (monitored.improvement_kind() == v1::PERIOD_ATTENDANCE_MEETS) {
    const v1::Comparison comparison = monitored.improvement().comparison();
    if (comparison != v1::AT_OR_ABOVE && comparison != v1::ABOVE) return std::nullopt;
    w.first = m.start + 1;
    w.last = c.as_of;
    so_far = CountsOf(c, w, c.known);
    const std::uint32_t bp = monitored.improvement().basis_points();
    improved = [&, bp, comparison](std::uint32_t k) {
      return Compare(so_far.attended + to_go - k, so_far.possible + to_go, bp, comparison);
    };
    needed = absl::StrCat(Symbol(comparison), " ", FormatBasisPoints(bp), " over the period");
  } else {
    v1::PolicyWindow ytd;
    ytd.set_kind(v1::POLICY_YEAR_TO_DATE);
    const AttendanceCounts start = CountsOf(c, Resolve(c, ytd, m.start), c.known);
    w = Resolve(c, ytd, c.as_of);
    so_far = CountsOf(c, w, c.known);
    if (start.possible == 0) return std::nullopt;
    improved = [&, start](std::uint32_t k) {
      return std::uint64_t{so_far.attended + to_go - k} * start.possible >
             std::uint64_t{start.attended} * (so_far.possible + to_go);
    };
    needed = absl::StrCat("year to date > ", Percent(start.attended, start.possible), " on ",
                          ledger::FormatDate(m.start));
  }
  if (!improved(0)) return std::nullopt;  // no improvement however the rest goes
  std::uint32_t absences = 1;             // the fewest that leave it unimproved
  while (absences <= to_go && improved(absences)) ++absences;
  if (absences > to_go) return std::nullopt;  // improved whatever happens
  v1::NearMiss miss;
  miss.set_rule_id(step.step_id());
  miss.set_ladder_id(ladder.ladder_id());
  miss.set_remaining(absences);
  if (!c.in.explain) return miss;
  v1::Explanation& e = *miss.mutable_explanation();
  e = NewExplanation(c, step.step_id());
  w.label = absl::StrCat("monitoring after ", monitored.step_id());
  FillWindow(w, &e);
  e.set_possible(so_far.possible);
  e.set_attended(so_far.attended);
  e.set_sentence(
      absl::StrCat("monitoring after ", monitored.step_id(), " runs to ", ledger::FormatDate(m.end),
                   ": ", Percent(so_far.attended, so_far.possible), " (", so_far.attended, "/",
                   so_far.possible, " sessions) so far, ", to_go, " sessions to go, ", needed,
                   " -> ", absences, " more absent ", absences == 1 ? "session" : "sessions",
                   " by ", ledger::FormatDate(m.end), " -> ", step.step_id(), " due"));
  return miss;
}

// What did a ladder step: a letter (its letter_id) or an action (its
// step_id), in log order.
struct Completion {
  const std::string* step_id;
  Day on;
  ledger::Position position;
  const std::string* action_id;  // null for a letter
};

std::vector<Completion> CompletionsOf(const EscalationInputs& in) {
  std::vector<Completion> out;
  if (in.letters != nullptr) {
    for (const LetterFact& l : *in.letters)
      out.push_back({&l.letter_id, l.sent_on, l.position, nullptr});
  }
  if (in.actions != nullptr) {
    for (const ActionFact& a : *in.actions) {
      if (!a.step_id.empty()) out.push_back({&a.step_id, a.happened_on, a.position, &a.action_id});
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Completion& a, const Completion& b) {
    return a.position < b.position;
  });
  return out;
}

// The amendment that changed a letter's basis: the latest one recorded
// after the letter was sent, of a session in the basis's window.
void NameAmendment(const Ctx& c, Day sent_on, const ResolvedWindow& window,
                   const std::vector<CountedSlot>* sessions, v1::StageRecord& record) {
  const AmendmentFact* a =
      LatestAmendment(c.in, sent_on, c.as_of, window.first, window.last, sessions);
  if (a == nullptr) return;
  record.set_basis_changed_by_position(a->position);
  record.set_basis_changed_on(ledger::FormatDate(a->recorded));
  record.set_basis_note(absl::StrCat(record.basis_note(), ", by ", AmendmentWords(*a)));
}

// A next step whose conditions held on the marks as first recorded but not
// as amended: shown as superseded with the amendment behind it.
void SupersededStep(const Ctx& c, const v1::Ladder& ladder, const v1::LadderStep& step, Day due_on,
                    bool previous_holds, const std::string& outcome, v1::PupilEscalation& out) {
  if (c.as_first_recorded == nullptr || !previous_holds) return;
  const Ctx& first = *c.as_first_recorded;
  std::optional<v1::Explanation> explanation;
  const AmendmentFact* amendment = nullptr;
  if (!step.trigger_id().empty()) {
    const v1::CountedTrigger* t = FindTrigger(c.policy, step.trigger_id());
    if (t == nullptr) return;
    const TriggerResult r = EvaluateTrigger(first, *t, c.as_of, c.known);
    if (!r.fired) return;
    explanation = TriggerExplanation(first, *t, r, c.as_of, outcome);
    amendment = LatestAmendment(c.in, 0, c.as_of, r.window.first, r.window.last, &r.sessions);
  }
  if (step.has_attendance()) {
    const ConditionResult r = EvaluateCondition(first, step.attendance(), c.as_of, c.known);
    if (!r.holds) return;
    explanation = ConditionExplanation(first, step.step_id(), r, step.attendance(), c.as_of,
                                       absl::StrCat(outcome, " as first recorded"));
    if (amendment == nullptr) {
      amendment = LatestAmendment(c.in, 0, c.as_of, r.window.first, r.window.last, nullptr);
    }
  }
  if (!explanation) return;  // only no_improvement: amendments do not supersede it here
  v1::DueAction& due = *out.add_superseded();
  due.set_pupil_id(c.in.pupil_id);
  due.set_rule_id(step.step_id());
  due.set_ladder_id(ladder.ladder_id());
  due.set_action(step.action());
  due.set_due_on(ledger::FormatDate(std::min(due_on, c.as_of)));
  due.set_priority(step.priority() != 0 ? step.priority() : ladder.priority());
  *due.mutable_explanation() = *explanation;
  Supersede(due, amendment, c.in.explain);
}

void EvaluateLadder(const Ctx& c, const v1::Ladder& ladder, v1::PupilEscalation& out) {
  v1::LadderState& state = *out.add_ladders();
  state.set_ladder_id(ladder.ladder_id());
  const int n = ladder.steps_size();
  std::vector<std::optional<Day>> done(static_cast<std::size_t>(n));
  auto index_of = [&](const std::string& id) {
    for (int i = 0; i < n; ++i) {
      if (ladder.steps(i).step_id() == id) return i;
    }
    return -1;
  };
  int stage = -1;
  for (const Completion& fact : CompletionsOf(c.in)) {
    if (fact.on > c.as_of) continue;
    int i = index_of(*fact.step_id);
    // A previous-year rule's letter does the step it names; its basis is
    // last year's attendance, which the rule judged, not the step's.
    bool by_year_rule = false;
    if (i < 0) {
      i = index_of(PreviousYearStep(c.policy, ladder.ladder_id(), *fact.step_id));
      by_year_rule = i >= 0;
    }
    if (i < 0 && stage >= 0) {
      // An improvement rule's letter that steps the ladder down: the stage
      // goes back to its after_step, whose monitoring restarts today, and
      // the steps above can fall due again. The letters sent stay facts.
      const v1::LadderStep& at = ladder.steps(stage);
      if (StepDownRule(c.policy, ladder.ladder_id(), *fact.step_id, at.step_id()) == nullptr) {
        continue;
      }
      const int to = at.after_step().empty() ? -1 : index_of(at.after_step());
      v1::StageRecord& record = *state.add_history();
      record.set_step_id(*fact.step_id);
      record.set_sent_on(ledger::FormatDate(fact.on));
      record.set_position(fact.position);
      if (fact.action_id != nullptr) record.set_action_id(*fact.action_id);
      record.set_stepped_down(true);
      record.set_stepped_down_to(at.after_step());
      for (int j = to + 1; j < n; ++j) done[static_cast<std::size_t>(j)].reset();
      if (to >= 0) done[static_cast<std::size_t>(to)] = fact.on;
      stage = to;
      continue;
    }
    if (i < 0) continue;
    const v1::LadderStep& step = ladder.steps(i);
    v1::StageRecord& record = *state.add_history();
    record.set_step_id(*fact.step_id);
    record.set_sent_on(ledger::FormatDate(fact.on));
    record.set_position(fact.position);
    if (fact.action_id != nullptr) record.set_action_id(*fact.action_id);
    // Facts stay facts: a letter or action whose basis an amendment
    // removed is flagged, never undone.
    if (by_year_rule) {
      // judged by the rule (escalation_previous_year.cc)
    } else if (step.has_attendance()) {
      const ConditionResult then = EvaluateCondition(c, step.attendance(), fact.on, fact.on);
      const ConditionResult now = EvaluateCondition(c, step.attendance(), fact.on, c.known);
      if (then.holds && !now.holds) {
        record.set_basis_changed(true);
        record.set_basis_note(
            absl::StrCat("basis changed: on ", ledger::FormatDate(fact.on), " attendance was ",
                         Percent(then.counts.attended, then.counts.possible), " as then recorded, ",
                         Percent(now.counts.attended, now.counts.possible), " as amended; ",
                         Symbol(step.attendance().comparison()), " ",
                         FormatBasisPoints(step.attendance().basis_points()), " no longer holds"));
        NameAmendment(c, fact.on, then.window, nullptr, record);
      }
    } else if (const v1::CountedTrigger* t = FindTrigger(c.policy, step.trigger_id())) {
      const TriggerResult then = EvaluateTrigger(c, *t, fact.on, fact.on);
      const TriggerResult now = EvaluateTrigger(c, *t, fact.on, c.known);
      if (then.fired && !now.fired) {
        record.set_basis_changed(true);
        record.set_basis_note(absl::StrCat("basis changed: ", t->trigger_id(), " counted ",
                                           now.count, " as amended, below ", t->threshold()));
        NameAmendment(c, fact.on, then.window, &then.sessions, record);
      }
    }
    if (!done[static_cast<std::size_t>(i)]) done[static_cast<std::size_t>(i)] = fact.on;
    stage = std::max(stage, i);
  }
  std::optional<Monitoring> stage_monitoring;
  if (stage >= 0) {
    const v1::LadderStep& step = ladder.steps(stage);
    state.set_stage(step.step_id());
    state.set_since(ledger::FormatDate(*done[static_cast<std::size_t>(stage)]));
    if (step.monitoring_school_days() > 0) {
      stage_monitoring = EvaluateMonitoring(c, step, *done[static_cast<std::size_t>(stage)]);
      v1::MonitoringPeriod& m = *state.mutable_monitoring();
      m.set_step_id(step.step_id());
      m.set_started_on(state.since());
      if (stage_monitoring->end != kNever) m.set_ends_on(ledger::FormatDate(stage_monitoring->end));
      m.set_running(!stage_monitoring->ended);
      m.set_improved(stage_monitoring->ended && stage_monitoring->improved);
      if (c.in.explain) *m.mutable_explanation() = stage_monitoring->explanation;
    }
  }
  for (int i = stage + 1; i < n; ++i) {
    const v1::LadderStep& step = ladder.steps(i);
    if (done[static_cast<std::size_t>(i)]) continue;
    Day due_on = c.as_of;
    std::optional<Monitoring> previous;
    if (!step.after_step().empty()) {
      const int p = index_of(step.after_step());
      if (p < 0 || !done[static_cast<std::size_t>(p)]) continue;
      const v1::LadderStep& prev = ladder.steps(p);
      if (prev.monitoring_school_days() > 0) {
        previous = p == stage ? stage_monitoring
                              : EvaluateMonitoring(c, prev, *done[static_cast<std::size_t>(p)]);
        if (!previous->ended) {
          if (step.no_improvement() && !c.in.due_only) {
            if (std::optional<v1::NearMiss> outlook =
                    MonitoringOutlook(c, ladder, prev, step, *previous)) {
              *out.add_near_misses() = std::move(*outlook);
            }
          }
          continue;
        }
        due_on = previous->end;
      }
    }
    bool holds = true;
    std::optional<v1::Explanation> explanation;
    const std::string outcome = absl::StrCat(step.step_id(), " due");
    std::uint32_t near = 0;
    std::optional<v1::Explanation> near_explanation;
    const bool previous_holds = !step.no_improvement() || (previous && !previous->improved);
    if (step.no_improvement()) {
      holds = holds && previous && !previous->improved;
      if (previous) {
        explanation = previous->explanation;
        if (c.in.explain) {
          explanation->set_rule_id(step.step_id());
          explanation->set_sentence(absl::StrCat(previous->explanation.sentence(), " after ",
                                                 step.after_step(), " -> ", outcome));
        }
      }
    }
    std::string cohort_rule;  // the cohort rule that lowered the step's trigger
    if (!step.trigger_id().empty()) {
      const v1::CountedTrigger* own = FindTrigger(c.policy, step.trigger_id());
      std::string cohort_note;
      const std::optional<v1::CountedTrigger> lowered =
          own ? LoweredForCohort(c, *own, &cohort_note, &cohort_rule) : std::nullopt;
      const v1::CountedTrigger* t = lowered ? &*lowered : own;
      // Unexplained, only whether it fired is read.
      const TriggerResult r =
          t ? EvaluateTrigger(c, *t, c.as_of, c.known, !c.in.explain) : TriggerResult{};
      holds = holds && r.fired;
      if (r.fired) due_on = previous ? std::max(due_on, r.fired_on) : r.fired_on;
      if (t) explanation = TriggerExplanation(c, *t, r, c.as_of, outcome + cohort_note);
      if (!r.fired) cohort_rule.clear();
    }
    if (step.has_attendance()) {
      const ConditionResult r = EvaluateCondition(c, step.attendance(), c.as_of, c.known);
      if (holds && !r.holds && !c.in.due_only) {
        near = SessionsToThreshold(r, step.attendance());
        if (near > 0) {
          near_explanation = ConditionExplanation(
              c, step.step_id(), r, step.attendance(), c.as_of,
              absl::StrCat(near, " more absent ", near == 1 ? "session" : "sessions", " -> ",
                           outcome));
        }
      }
      holds = holds && r.holds;
      explanation = ConditionExplanation(c, step.step_id(), r, step.attendance(), c.as_of,
                                         holds ? outcome : step.step_id());
    }
    if (holds) {
      v1::DueAction& due = *out.add_due();
      due.set_pupil_id(c.in.pupil_id);
      due.set_rule_id(step.step_id());
      due.set_ladder_id(ladder.ladder_id());
      due.set_action(step.action());
      due.set_due_on(ledger::FormatDate(std::min(due_on, c.as_of)));
      due.set_priority(step.priority() != 0 ? step.priority() : ladder.priority());
      if (!cohort_rule.empty()) due.add_cohort_rules(cohort_rule);
      if (explanation) *due.mutable_explanation() = std::move(*explanation);
    } else {
      SupersededStep(c, ladder, step, due_on, previous_holds, outcome, out);
    }
    if (!holds && near > 0) {
      v1::NearMiss& miss = *out.add_near_misses();
      miss.set_rule_id(step.step_id());
      miss.set_ladder_id(ladder.ladder_id());
      miss.set_remaining(near);
      *miss.mutable_explanation() = *near_explanation;
    }
  }
}

void EvaluateBands(const Ctx& c, const v1::BandSet& set, v1::PupilEscalation& out) {
  v1::BandPlacement& placement = *out.add_bands();
  placement.set_band_set_id(set.band_set_id());
  const ResolvedWindow w = Resolve(c, set.window(), c.as_of);
  const AttendanceCounts counts = CountsOf(c, w, c.known);
  const std::uint64_t scaled = 10000ull * counts.attended;
  const v1::Band* found = nullptr;
  if (counts.possible > 0) {
    for (const v1::Band& band : set.bands()) {
      const std::uint64_t lo = std::uint64_t{band.lower_basis_points()} * counts.possible;
      const std::uint64_t hi = std::uint64_t{band.upper_basis_points()} * counts.possible;
      const bool above_lower = band.lower_inclusive() ? scaled >= lo : scaled > lo;
      const bool below_upper = band.upper_inclusive() ? scaled <= hi : scaled < hi;
      if (above_lower && below_upper) found = &band;
    }
  }
  if (found != nullptr) placement.set_band_id(found->band_id());
  v1::Explanation& e = *placement.mutable_explanation();
  e = NewExplanation(c, set.band_set_id());
  FillWindow(w, &e);
  e.set_possible(counts.possible);
  e.set_attended(counts.attended);
  std::string where = "no band";
  if (found != nullptr) {
    where = absl::StrCat(found->lower_inclusive() ? "[" : "(",
                         FormatBasisPoints(found->lower_basis_points()), ", ",
                         FormatBasisPoints(found->upper_basis_points()),
                         found->upper_inclusive() ? "]" : ")", " -> band ", found->band_id());
    e.set_basis_points(found->lower_basis_points());
  }
  e.set_sentence(absl::StrCat("attendance ", Percent(counts.attended, counts.possible), " (",
                              counts.attended, "/", counts.possible, " sessions, ", w.label,
                              ") on ", ledger::FormatDate(c.as_of), " in ", where));
}

// The ladder step an action answered, and its ladder (null if none).
std::pair<const v1::Ladder*, const v1::LadderStep*> StepOf(const v1::EscalationPolicy& policy,
                                                           const std::string& step_id) {
  for (const v1::Ladder& ladder : policy.ladders()) {
    for (const v1::LadderStep& step : ladder.steps()) {
      if (!step_id.empty() && step.step_id() == step_id) return {&ladder, &step};
    }
  }
  return {nullptr, nullptr};
}

// Each meeting whose review date has come is due for review until an
// action records that review (reviews_action_id); its explanation says
// whether the target set at the meeting was met over the days since.
void EvaluateReviews(const Ctx& c, v1::PupilEscalation& out) {
  if (c.in.actions == nullptr) return;
  for (const ActionFact& meeting : *c.in.actions) {
    if (meeting.review_on == 0 || meeting.happened_on > c.as_of || meeting.review_on > c.as_of) {
      continue;
    }
    const bool reviewed =
        std::any_of(c.in.actions->begin(), c.in.actions->end(), [&](const ActionFact& a) {
          return a.reviews_action_id == meeting.action_id && a.happened_on <= c.as_of;
        });
    if (reviewed) continue;
    const auto [ladder, step] = StepOf(c.policy, meeting.step_id);
    v1::DueAction& due = *out.add_due();
    due.set_pupil_id(c.in.pupil_id);
    due.set_rule_id(meeting.action_id);
    if (ladder != nullptr) due.set_ladder_id(ladder->ladder_id());
    due.set_action(v1::REVIEW);
    due.set_due_on(ledger::FormatDate(meeting.review_on));
    due.set_priority(step == nullptr         ? 0
                     : step->priority() != 0 ? step->priority()
                                             : ladder->priority());
    if (!c.in.explain) continue;
    v1::Explanation& e = *due.mutable_explanation();
    e = NewExplanation(c, meeting.action_id);
    const std::string held = absl::StrCat("meeting ", meeting.action_id, " held ",
                                          ledger::FormatDate(meeting.happened_on));
    if (meeting.target_basis_points == 0) {
      e.set_sentence(absl::StrCat(held, " set no target; review due on ",
                                  ledger::FormatDate(meeting.review_on)));
      continue;
    }
    ResolvedWindow w;
    w.first = meeting.happened_on + 1;
    w.last = meeting.review_on;
    w.label = absl::StrCat("since meeting ", meeting.action_id);
    const AttendanceCounts counts = CountsOf(c, w, c.known);
    const bool met = counts.possible > 0 && Compare(counts.attended, counts.possible,
                                                    meeting.target_basis_points, v1::AT_OR_ABOVE);
    FillWindow(w, &e);
    e.set_possible(counts.possible);
    e.set_attended(counts.attended);
    e.set_basis_points(meeting.target_basis_points);
    e.set_comparison(v1::AT_OR_ABOVE);
    e.set_sentence(absl::StrCat(
        "attendance ", Percent(counts.attended, counts.possible), " (", counts.attended, "/",
        counts.possible, " sessions, ", ledger::FormatDate(w.first), "..",
        ledger::FormatDate(w.last), ")", met ? " >= " : " not >= ",
        FormatBasisPoints(meeting.target_basis_points), " target set at ", held, " -> target ",
        met ? "met" : "not met", "; review due on ", ledger::FormatDate(meeting.review_on)));
  }
}

}  // namespace attendance::projections::escalation_internal
