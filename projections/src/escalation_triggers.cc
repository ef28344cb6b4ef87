// Counted triggers: counts in a window, consecutive runs, unresolved N
// codes, and the due actions and near misses they give (escalation_internal.h).
#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "escalation_internal.h"

namespace attendance::projections::escalation_internal {

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
  Codes at(c.in.pupil, known, c.original);
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
  Codes at(c.in.pupil, known, c.original);
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
  Codes at(c.in.pupil, known, c.original);
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

// The last minute a session's register is open; a register with no close
// time is open until the end of its day (23:59).
int CloseMinute(const v1::SchoolSettings& settings, int session) {
  return ledger::ParseTimeOfDay(session == 0 ? settings.am_register_closes()
                                             : settings.pm_register_closes())
      .value_or(kEndOfDay - 1);
}

// Sessions of school days with no mark, for a pupil on roll and not in a
// closure, whose register has closed by the end of `known` (on as_of, by
// as_of_minute).
void NoMarkAfterClose(const Ctx& c, const v1::CountedTrigger& t, Day known, TriggerResult& r) {
  if (c.in.pupil == nullptr) return;
  const std::uint32_t threshold = std::max<std::uint32_t>(t.threshold(), 1);
  const int close[2] = {CloseMinute(c.in.settings, 0), CloseMinute(c.in.settings, 1)};
  Codes at(c.in.pupil, known, c.original);
  for (Day d = r.window.first; d <= r.window.last; ++d) {
    if (!c.cache.IsSchoolDay(d)) continue;
    for (int s = 0; s < 2; ++s) {
      if (at.At(d, s) != 0) continue;
      // Open through its close minute, as the ledger takes marks (commands.cc).
      if (d == c.as_of && c.in.as_of_minute <= close[s]) continue;
      if (!c.in.pupil->OnRollDuring(d, d, known)) continue;
      const v1::Pupil* details = c.in.pupil->AttributesAt(d, known);
      const int year_group = details != nullptr ? details->year_group() : 0;
      if (c.in.calendar->IsClosed(d, s == 0 ? v1::AM : v1::PM, year_group)) continue;
      AddSession(r, d, s, 0);
      ++r.count;
      if (r.count == threshold) r.fired_on = d;
      if (r.count >= threshold && (r.fired_days.empty() || r.fired_days.back() != d)) {
        r.fired_days.push_back(d);
      }
    }
  }
  r.fired = r.count >= threshold;
}

// once_per_spell: the first day of each spell (a run of school days with
// the codes; days not possible neither count nor break it) begun after the
// one in progress when the count reached its threshold.
void LaterSpells(const Ctx& c, const v1::CountedTrigger& t, const CodeSet& codes, Day known,
                 TriggerResult& r) {
  Codes at(c.in.pupil, known, c.original);
  bool in_spell = true;
  for (Day d = r.fired_on + 1; d <= r.window.last; ++d) {
    if (!c.cache.IsSchoolDay(d)) continue;
    const CodeIndex am = at.At(d, 0);
    const CodeIndex pm = at.At(d, 1);
    if (NotPossible(am) && NotPossible(pm)) continue;
    const bool hit = t.unit() == v1::WHOLE_DAYS ? codes[am] && codes[pm] : codes[am] || codes[pm];
    if (hit && !in_spell) r.fired_days.push_back(d);
    in_spell = hit;
  }
}

// True if `t` cannot fire in r.window by the window's counts alone, with
// r.count set to at most what the walk would count: k sessions with its
// codes make a count of sessions k, and a count or run of whole days (both
// sessions) at most k / 2. The counts are those of the real context (the
// marks as known), shared by the evaluation's triggers and conditions.
bool CannotFire(const Ctx& c, const v1::CountedTrigger& t, const CodeSet& codes, Day known,
                TriggerResult& r) {
  if (c.original != nullptr || c.counts == nullptr || c.in.pupil == nullptr ||
      t.kind() == v1::NO_MARK_AFTER_CLOSE) {
    return false;
  }
  std::uint64_t sessions = 0;
  if (!r.window.empty()) {
    const AttendanceCounts& counts =
        c.counts->Get(*c.in.pupil, r.window.first, r.window.last, known);
    for (std::size_t i = 1; i < codes.size(); ++i) {
      if (codes[i]) sessions += counts.per_code[i];
    }
  }
  if (t.kind() == v1::N_CODE_UNRESOLVED) {
    if (sessions > 0) return false;
    r.count = 0;
    return true;
  }
  const std::uint64_t bound = t.unit() == v1::WHOLE_DAYS ? sessions / 2 : sessions;
  if (bound >= t.threshold()) return false;
  r.count = static_cast<std::uint32_t>(bound);
  return true;
}

TriggerResult EvaluateTrigger(const Ctx& c, const v1::CountedTrigger& t, Day on, Day known,
                              bool firing_only) {
  TriggerResult r;
  if (t.kind() == v1::N_CODE_UNRESOLVED) {
    v1::PolicyWindow ytd;
    ytd.set_kind(v1::POLICY_YEAR_TO_DATE);
    r.window = Resolve(c, ytd, on);
    CodeSet n{};
    n[CodeIndexOf("N")] = true;
    if (firing_only && CannotFire(c, t, n, known, r)) return r;
    UnresolvedN(c, n, on, known, r);
    return r;
  }
  r.window = Resolve(c, t.window(), on);
  const CodeSet codes = CodesOf(t);
  if (firing_only && CannotFire(c, t, codes, known, r)) return r;
  if (t.kind() == v1::NO_MARK_AFTER_CLOSE) {
    NoMarkAfterClose(c, t, known, r);
  } else if (t.kind() == v1::CONSECUTIVE) {
    Consecutive(c, t, codes, known, r);
  } else {
    CountInWindow(c, t, codes, known, r);
    if (r.fired) r.fired_days.push_back(r.fired_on);
    if (r.fired && t.once_per_spell()) LaterSpells(c, t, codes, known, r);
  }
  return r;
}

std::string UnitWord(const v1::CountedTrigger& t, std::uint32_t n) {
  const bool days = t.unit() == v1::WHOLE_DAYS;
  return absl::StrCat(n, days ? (n == 1 ? " day" : " days") : (n == 1 ? " session" : " sessions"));
}

v1::Explanation TriggerExplanation(const Ctx& c, const v1::CountedTrigger& t,
                                   const TriggerResult& r, Day on, const std::string& outcome) {
  if (!c.in.explain) return {};
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
  if (t.kind() == v1::NO_MARK_AFTER_CLOSE) {
    e.set_sentence(absl::StrCat(
        r.count, r.count == 1 ? " session" : " sessions",
        " with no mark after the register closed (", r.window.label,
        r.window.empty() ? "" : absl::StrCat(", ", e.window_first(), "..", e.window_last()),
        ") on ", ledger::FormatDate(on), r.fired ? " >= " : " < ",
        std::max<std::uint32_t>(t.threshold(), 1), " -> ", outcome));
    return e;
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

// A trigger that does not fire on the amended marks but did as first
// recorded, unanswered since: superseded by the amendment, shown as such.
// `now`: the trigger on the marks as amended (not fired).
void SupersededTrigger(const Ctx& c, const v1::CountedTrigger& t, const TriggerResult& now,
                       v1::PupilEscalation& out) {
  if (c.as_first_recorded == nullptr || t.action() == v1::ACTION_KIND_UNSPECIFIED ||
      t.kind() == v1::NO_MARK_AFTER_CLOSE) {
    return;
  }
  const Ctx& first = *c.as_first_recorded;
  // As first recorded only the amended sessions in the window read other
  // codes: k of them whose first code counts (or neither counts nor breaks
  // a run) raise the count by at most k, and join runs into one at most
  // (k + 1) * count + k long. Below the threshold it cannot have fired, and
  // is not evaluated again (most pupils have amendments).
  CodeSet codes{};
  if (t.kind() == v1::N_CODE_UNRESOLVED) {
    codes[CodeIndexOf("N")] = true;
  } else {
    codes = CodesOf(t);
  }
  std::uint64_t k = 0;
  for (const OriginalCode& o : *first.original) {
    if (o.day >= now.window.first && o.day <= now.window.last &&
        (codes[o.code] || NotPossible(o.code))) {
      ++k;
    }
  }
  const std::uint64_t bound = t.kind() == v1::CONSECUTIVE ? (k + 1) * now.count + k : now.count + k;
  const std::uint64_t threshold = t.kind() == v1::N_CODE_UNRESOLVED ? 1 : t.threshold();
  if (bound < threshold) return;
  const TriggerResult was = EvaluateTrigger(first, t, c.as_of, c.known);
  if (!was.fired) return;
  Day due_on = was.fired_on;
  if (const std::optional<Day> answered = LastAnswer(c, t.trigger_id())) {
    auto next = std::upper_bound(was.fired_days.begin(), was.fired_days.end(), *answered);
    if (next == was.fired_days.end()) return;  // it was done: nothing to supersede
    due_on = *next;
  }
  v1::DueAction& due = *out.add_superseded();
  due.set_pupil_id(c.in.pupil_id);
  due.set_rule_id(t.trigger_id());
  due.set_action(t.action());
  due.set_due_on(ledger::FormatDate(std::min(due_on, c.as_of)));
  due.set_priority(t.priority());
  *due.mutable_explanation() = TriggerExplanation(
      first, t, was, c.as_of, absl::StrCat(ActionWord(t.action()), " due as first recorded"));
  Supersede(due,
            LatestAmendment(c.in, 0, c.as_of, was.window.first, was.window.last, &was.sessions),
            c.in.explain);
}

void EvaluateTriggers(const Ctx& c, v1::PupilEscalation& out) {
  for (const v1::CountedTrigger& own : c.policy.triggers()) {
    if (own.action() == v1::ACTION_KIND_UNSPECIFIED && (own.near_miss() == 0 || c.in.due_only)) {
      continue;
    }
    // A vulnerable pupil's earlier trigger (a cohort rule): the same rule at
    // a lower threshold, said in the explanation.
    std::string cohort_words;
    std::string cohort_rule;
    std::optional<v1::CountedTrigger> lowered;
    if (const std::optional<std::uint32_t> threshold =
            CohortThreshold(c, own, &cohort_words, &cohort_rule)) {
      lowered = own;
      lowered->set_threshold(*threshold);
      lowered->set_near_miss(std::min(own.near_miss(), *threshold - 1));
    }
    const v1::CountedTrigger& t = lowered ? *lowered : own;
    const std::string cohort_note = lowered ? absl::StrCat(" (", cohort_words, ")") : "";
    // In a worklist's evaluation a trigger that does not fire shows nothing
    // (no near miss), and its count only bounds SupersededTrigger's.
    const TriggerResult r = EvaluateTrigger(c, t, c.as_of, c.known, c.in.due_only);
    if (!r.fired) SupersededTrigger(c, t, r, out);
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
      if (lowered) due.add_cohort_rules(cohort_rule);
      *due.mutable_explanation() = TriggerExplanation(
          c, t, r, c.as_of, absl::StrCat(ActionWord(t.action()), " due", cohort_note));
    } else if (!c.in.due_only && !r.fired && t.near_miss() > 0 && r.count > 0 &&
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

}  // namespace attendance::projections::escalation_internal
