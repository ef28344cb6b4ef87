// Pure evaluation of an escalation policy for one pupil (escalation.h).
#include "projections/escalation.h"

#include <algorithm>
#include <array>
#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "projections/windows.h"

namespace attendance::projections {
namespace {

constexpr Day kNever = std::numeric_limits<Day>::max();
// School days are looked for at most this far ahead (a monitoring period
// whose end the calendar does not hold yet has not ended).
constexpr Day kMaxSchoolDaySearch = 800;
// An explanation lists at most this many sessions (the count is exact).
constexpr int kMaxListedSessions = 100;
// A next step is a near miss when this many more absent sessions would
// make it due.
constexpr std::uint32_t kNearMissSessions = 10;

using CodeSet = std::array<bool, kNumCodes>;

struct Ctx {
  const EscalationInputs& in;
  Day as_of;
  const v1::EscalationPolicy& policy;
  EvaluationCache& cache;
};

// The code of each session as known at the end of `known`, for a walk over
// days: the academic year is looked up once per year, not per session.
class Codes {
 public:
  Codes(const PupilState* pupil, Day known) : pupil_(pupil), known_(known) {}

  CodeIndex At(Day day, int session) {
    if (pupil_ == nullptr) return 0;
    if (day < start_ || day >= end_) Seek(day);
    if (year_ == nullptr) return 0;
    const auto slot = static_cast<std::uint16_t>(2 * (day - start_) + session);
    if (known_ >= year_->max_recorded) return year_->codes[slot];
    auto it =
        std::lower_bound(year_->changes.begin(), year_->changes.end(), slot,
                         [](const PupilYear::Change& c, std::uint16_t s) { return c.slot < s; });
    if (it == year_->changes.end() || it->slot != slot) return year_->codes[slot];
    CodeIndex then = 0;
    for (; it != year_->changes.end() && it->slot == slot; ++it) {
      if (it->recorded <= known_) then = it->code;
    }
    return then;
  }

 private:
  void Seek(Day day) {
    const int academic_year = ledger::AcademicYearOf(day);
    start_ = ledger::AcademicYearStart(academic_year);
    end_ = ledger::AcademicYearStart(academic_year + 1);
    year_ = pupil_->Year(academic_year);
  }

  const PupilState* pupil_;
  Day known_;
  Day start_ = 1;
  Day end_ = 0;
  const PupilYear* year_ = nullptr;
};

AttendanceCounts CountsOf(const Ctx& c, const ResolvedWindow& w, Day known) {
  if (c.in.pupil == nullptr || w.empty()) return {};
  return c.in.pupil->Count(w.first, w.last, known);
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

// --- Attendance conditions -------------------------------------------------

struct ConditionResult {
  bool holds = false;
  AttendanceCounts counts;
  ResolvedWindow window;
};

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

// --- Counted triggers ------------------------------------------------------

// A session that counted, kept small: most are never shown (a trigger far
// from firing), so protos are made only for an explanation that is.
struct CountedSlot {
  Day day = 0;
  int session = 0;
  CodeIndex code = 0;
};

struct TriggerResult {
  bool fired = false;
  std::uint32_t count = 0;
  Day fired_on = kNever;
  // Every day it reached its threshold (each run, each N past its
  // deadline; for a count in a window, fired_on), in date order: an action
  // answers the firings on or before the day it happened.
  std::vector<Day> fired_days;
  ResolvedWindow window;
  std::vector<CountedSlot> sessions;
};

CodeSet CodesOf(const v1::CountedTrigger& trigger) {
  CodeSet set{};
  for (const std::string& code : trigger.codes()) set[CodeIndexOf(code)] = true;
  set[0] = false;
  return set;
}

void AddSession(TriggerResult& r, Day day, int session, CodeIndex code) {
  if (static_cast<int>(r.sessions.size()) >= kMaxListedSessions) return;
  r.sessions.push_back({day, session, code});
}

bool NotPossible(CodeIndex code) {
  return code != 0 && CategoryOf(code) == ledger::CodeCategory::kNotPossible;
}

void CountInWindow(const Ctx& c, const v1::CountedTrigger& t, const CodeSet& codes, Day known,
                   TriggerResult& r) {
  Codes at(c.in.pupil, known);
  for (Day d = r.window.first; d <= r.window.last; ++d) {
    const CodeIndex am = at.At(d, 0);
    const CodeIndex pm = at.At(d, 1);
    if (t.unit() == v1::WHOLE_DAYS) {
      if (!codes[am] || !codes[pm]) continue;
      AddSession(r, d, 0, am);
      AddSession(r, d, 1, pm);
      if (++r.count == t.threshold()) r.fired_on = d;
      continue;
    }
    for (int s = 0; s < 2; ++s) {
      const CodeIndex code = s == 0 ? am : pm;
      if (!codes[code]) continue;
      AddSession(r, d, s, code);
      if (++r.count == t.threshold()) r.fired_on = d;
    }
  }
  r.fired = r.count >= t.threshold();
}

// The longest run of consecutive school days (or sessions) with the codes;
// sessions that are not possible (closures, X, Y) neither count nor break.
void Consecutive(const Ctx& c, const v1::CountedTrigger& t, const CodeSet& codes, Day known,
                 TriggerResult& r) {
  std::uint32_t run = 0;
  std::vector<CountedSlot> current;
  // The longest run is kept when a run ends, with its sessions.
  auto close_run = [&] {
    if (run > r.count) {
      r.count = run;
      r.sessions = current;
    }
    run = 0;
    current.clear();
  };
  auto list = [&](Day d, int s, CodeIndex code) {
    if (static_cast<int>(current.size()) < kMaxListedSessions) current.push_back({d, s, code});
  };
  auto count = [&](Day d) {
    if (++run != t.threshold()) return;
    if (r.fired_on == kNever) r.fired_on = d;
    r.fired_days.push_back(d);
  };
  Codes at(c.in.pupil, known);
  for (Day d = r.window.first; d <= r.window.last; ++d) {
    if (!c.cache.IsSchoolDay(d)) continue;
    const CodeIndex am = at.At(d, 0);
    const CodeIndex pm = at.At(d, 1);
    if (t.unit() == v1::WHOLE_DAYS) {
      if (NotPossible(am) && NotPossible(pm)) continue;
      if (codes[am] && codes[pm]) {
        list(d, 0, am);
        list(d, 1, pm);
        count(d);  // a day counts once; both its sessions are listed
      } else {
        close_run();
      }
      continue;
    }
    for (int s = 0; s < 2; ++s) {
      const CodeIndex code = s == 0 ? am : pm;
      if (NotPossible(code)) continue;
      if (codes[code]) {
        list(d, s, code);
        count(d);
      } else {
        close_run();
      }
    }
  }
  close_run();
  r.fired = r.count >= t.threshold();
}

void UnresolvedN(const Ctx& c, const CodeSet& n_code, Day on, Day known, TriggerResult& r) {
  std::uint32_t deadline = c.in.settings.n_code_deadline_school_days();
  if (deadline == 0) deadline = 5;
  Codes at(c.in.pupil, known);
  for (Day d = r.window.first; d <= r.window.last; ++d) {
    for (int s = 0; s < 2; ++s) {
      const CodeIndex code = at.At(d, s);
      if (!n_code[code]) continue;
      const Day due = AddSchoolDays(c.cache, d, deadline);
      if (due > on) continue;
      AddSession(r, d, s, code);
      ++r.count;
      r.fired_on = std::min(r.fired_on, due);
      r.fired_days.push_back(due);
    }
  }
  r.fired = r.count > 0;
}

TriggerResult EvaluateTrigger(const Ctx& c, const v1::CountedTrigger& t, Day on, Day known) {
  TriggerResult r;
  if (t.kind() == v1::N_CODE_UNRESOLVED) {
    v1::PolicyWindow ytd;
    ytd.set_kind(v1::POLICY_YEAR_TO_DATE);
    r.window = Resolve(c, ytd, on);
    CodeSet n{};
    n[CodeIndexOf("N")] = true;
    UnresolvedN(c, n, on, known, r);
    return r;
  }
  r.window = Resolve(c, t.window(), on);
  const CodeSet codes = CodesOf(t);
  if (t.kind() == v1::CONSECUTIVE) {
    Consecutive(c, t, codes, known, r);
  } else {
    CountInWindow(c, t, codes, known, r);
    if (r.fired) r.fired_days.push_back(r.fired_on);
  }
  return r;
}

std::string UnitWord(const v1::CountedTrigger& t, std::uint32_t n) {
  const bool days = t.unit() == v1::WHOLE_DAYS;
  return absl::StrCat(n, days ? (n == 1 ? " day" : " days") : (n == 1 ? " session" : " sessions"));
}

v1::Explanation TriggerExplanation(const Ctx& c, const v1::CountedTrigger& t,
                                   const TriggerResult& r, Day on, const std::string& outcome) {
  v1::Explanation e = NewExplanation(c, t.trigger_id());
  FillWindow(r.window, &e);
  e.set_count(r.count);
  e.set_threshold(t.threshold());
  for (const CountedSlot& slot : r.sessions) {
    v1::CountedSession& session = *e.add_sessions();
    session.set_date(ledger::FormatDate(slot.day));
    session.set_session(slot.session == 0 ? v1::AM : v1::PM);
    session.set_code(std::string(CodeName(slot.code)));
  }
  if (t.kind() == v1::N_CODE_UNRESOLVED) {
    e.set_sentence(absl::StrCat(r.count, " N ", r.count == 1 ? "session" : "sessions",
                                " not resolved within the N-code deadline on ",
                                ledger::FormatDate(on), " -> ", outcome));
    return e;
  }
  const std::string codes = absl::StrJoin(t.codes(), "/");
  const char* how = t.kind() == v1::CONSECUTIVE ? " in a row " : " ";
  e.set_sentence(absl::StrCat(
      UnitWord(t, r.count), how, codes, " (", r.window.label,
      r.window.empty() ? "" : absl::StrCat(", ", e.window_first(), "..", e.window_last()), ") on ",
      ledger::FormatDate(on), r.fired ? " >= " : " < ", t.threshold(), " -> ", outcome));
  return e;
}

// --- Ladders ----------------------------------------------------------------

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
    default:
      return "action";
  }
}

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
  m.explanation = NewExplanation(c, step.step_id());
  const Day until = std::min(m.end, c.as_of);
  if (step.improvement_kind() == v1::PERIOD_ATTENDANCE_MEETS) {
    ResolvedWindow w;
    w.first = start + 1;
    w.last = until;
    w.label = absl::StrCat("monitoring after ", step.step_id());
    const AttendanceCounts counts = CountsOf(c, w, c.as_of);
    m.improved = counts.possible > 0 &&
                 Compare(counts.attended, counts.possible, step.improvement().basis_points(),
                         step.improvement().comparison());
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
  const AttendanceCounts a0 = CountsOf(c, w0, c.as_of);
  const AttendanceCounts a1 = CountsOf(c, w1, c.as_of);
  m.improved = a0.possible > 0 && a1.possible > 0 &&
               std::uint64_t{a1.attended} * a0.possible > std::uint64_t{a0.attended} * a1.possible;
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
    const int i = index_of(*fact.step_id);
    if (i < 0 || fact.on > c.as_of) continue;
    const v1::LadderStep& step = ladder.steps(i);
    v1::StageRecord& record = *state.add_history();
    record.set_step_id(*fact.step_id);
    record.set_sent_on(ledger::FormatDate(fact.on));
    record.set_position(fact.position);
    if (fact.action_id != nullptr) record.set_action_id(*fact.action_id);
    // Facts stay facts: a letter or action whose basis an amendment
    // removed is flagged, never undone.
    if (step.has_attendance()) {
      const ConditionResult then = EvaluateCondition(c, step.attendance(), fact.on, fact.on);
      const ConditionResult now = EvaluateCondition(c, step.attendance(), fact.on, c.as_of);
      if (then.holds && !now.holds) {
        record.set_basis_changed(true);
        record.set_basis_note(
            absl::StrCat("basis changed: on ", ledger::FormatDate(fact.on), " attendance was ",
                         Percent(then.counts.attended, then.counts.possible), " as then recorded, ",
                         Percent(now.counts.attended, now.counts.possible), " as amended; ",
                         Symbol(step.attendance().comparison()), " ",
                         FormatBasisPoints(step.attendance().basis_points()), " no longer holds"));
      }
    } else if (const v1::CountedTrigger* t = FindTrigger(c.policy, step.trigger_id())) {
      const bool then = EvaluateTrigger(c, *t, fact.on, fact.on).fired;
      const TriggerResult now = EvaluateTrigger(c, *t, fact.on, c.as_of);
      if (then && !now.fired) {
        record.set_basis_changed(true);
        record.set_basis_note(absl::StrCat("basis changed: ", t->trigger_id(), " counted ",
                                           now.count, " as amended, below ", t->threshold()));
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
      *m.mutable_explanation() = stage_monitoring->explanation;
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
        if (!previous->ended) continue;
        due_on = previous->end;
      }
    }
    bool holds = true;
    std::optional<v1::Explanation> explanation;
    const std::string outcome = absl::StrCat(step.step_id(), " due");
    std::uint32_t near = 0;
    std::optional<v1::Explanation> near_explanation;
    if (step.no_improvement()) {
      holds = holds && previous && !previous->improved;
      if (previous) {
        explanation = previous->explanation;
        explanation->set_rule_id(step.step_id());
        explanation->set_sentence(absl::StrCat(previous->explanation.sentence(), " after ",
                                               step.after_step(), " -> ", outcome));
      }
    }
    if (!step.trigger_id().empty()) {
      const v1::CountedTrigger* t = FindTrigger(c.policy, step.trigger_id());
      const TriggerResult r = t ? EvaluateTrigger(c, *t, c.as_of, c.as_of) : TriggerResult{};
      holds = holds && r.fired;
      if (r.fired) due_on = previous ? std::max(due_on, r.fired_on) : r.fired_on;
      if (t) explanation = TriggerExplanation(c, *t, r, c.as_of, outcome);
    }
    if (step.has_attendance()) {
      const ConditionResult r = EvaluateCondition(c, step.attendance(), c.as_of, c.as_of);
      if (holds && !r.holds) {
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
      if (explanation) *due.mutable_explanation() = *explanation;
    } else if (near > 0) {
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
  const AttendanceCounts counts = CountsOf(c, w, c.as_of);
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

// The day of the last action answering the trigger (by as_of): it answers
// every firing on or before that day, so the trigger's action is done until
// it fires again.
std::optional<Day> LastAnswer(const Ctx& c, const std::string& trigger_id) {
  std::optional<Day> last;
  if (c.in.actions == nullptr) return last;
  for (const ActionFact& a : *c.in.actions) {
    if (a.trigger_id == trigger_id && a.happened_on <= c.as_of) {
      last = std::max(last.value_or(a.happened_on), a.happened_on);
    }
  }
  return last;
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
    const AttendanceCounts counts = CountsOf(c, w, c.as_of);
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

void EvaluateTriggers(const Ctx& c, v1::PupilEscalation& out) {
  for (const v1::CountedTrigger& t : c.policy.triggers()) {
    if (t.action() == v1::ACTION_KIND_UNSPECIFIED && t.near_miss() == 0) continue;
    const TriggerResult r = EvaluateTrigger(c, t, c.as_of, c.as_of);
    Day due_on = r.fired_on;
    if (r.fired) {
      // Due from the first firing after the last action answering it.
      if (const std::optional<Day> answered = LastAnswer(c, t.trigger_id())) {
        auto next = std::upper_bound(r.fired_days.begin(), r.fired_days.end(), *answered);
        if (next == r.fired_days.end()) continue;
        due_on = *next;
      }
    }
    if (r.fired && t.action() != v1::ACTION_KIND_UNSPECIFIED) {
      v1::DueAction& due = *out.add_due();
      due.set_pupil_id(c.in.pupil_id);
      due.set_rule_id(t.trigger_id());
      due.set_action(t.action());
      due.set_due_on(ledger::FormatDate(std::min(due_on, c.as_of)));
      due.set_priority(t.priority());
      *due.mutable_explanation() =
          TriggerExplanation(c, t, r, c.as_of, absl::StrCat(ActionWord(t.action()), " due"));
    } else if (!r.fired && t.near_miss() > 0 && r.count > 0 &&
               r.count + t.near_miss() >= t.threshold()) {
      v1::NearMiss& miss = *out.add_near_misses();
      miss.set_rule_id(t.trigger_id());
      miss.set_remaining(t.threshold() - r.count);
      *miss.mutable_explanation() = TriggerExplanation(
          c, t, r, c.as_of,
          absl::StrCat(UnitWord(t, t.threshold() - r.count), " from ", t.trigger_id()));
    }
  }
}

}  // namespace

bool EvaluationCache::IsSchoolDay(Day day) {
  auto [it, inserted] = school_days_.try_emplace(day, false);
  if (inserted) it->second = calendar_.IsSchoolDay(day);
  return it->second;
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
  const Ctx c{inputs, as_of, *inputs.policy, inputs.cache ? *inputs.cache : *own};
  out.set_policy_id(c.policy.policy_id());
  out.set_policy_version(c.policy.version());
  for (const v1::Ladder& ladder : c.policy.ladders()) EvaluateLadder(c, ladder, out);
  EvaluateTriggers(c, out);
  EvaluateReviews(c, out);
  for (const v1::BandSet& set : c.policy.band_sets()) EvaluateBands(c, set, out);
  return out;
}

}  // namespace attendance::projections
