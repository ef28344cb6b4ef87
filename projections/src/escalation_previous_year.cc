// Previous-year rules (escalation_internal.h): seed 001's September letter
// to the previous academic year's persistent absentees, once a year.
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "escalation_internal.h"

namespace attendance::projections::escalation_internal {
namespace {

// School starts within three months of the academic year's first day.
constexpr Day kYearStartSearch = 92;

// `due_through` ("MM-DD") in the academic year starting in `year`; 29
// February in a common year is the 28th.
Day DueThrough(const std::string& month_day, int year) {
  const int month = std::stoi(month_day.substr(0, 2));
  const int calendar_year = month >= 8 ? year : year + 1;
  if (std::optional<Day> d =
          ledger::ParseDate(absl::StrFormat("%04d-%s", calendar_year, month_day)))
    return *d;
  return ledger::ParseDate(absl::StrFormat("%04d-02-28", calendar_year)).value_or(kNever);
}

ConditionResult Judge(const Ctx& c, const v1::AttendanceCondition& condition,
                      const ResolvedWindow& window) {
  ConditionResult r;
  r.window = window;
  r.counts = CountsOf(c, window, c.known);
  r.holds = r.counts.possible > 0 && r.counts.possible >= condition.min_possible_sessions() &&
            Compare(r.counts.attended, r.counts.possible, condition.basis_points(),
                    condition.comparison());
  return r;
}

}  // namespace

const std::string& PreviousYearStep(const v1::EscalationPolicy& policy,
                                    const std::string& ladder_id, const std::string& rule_id) {
  static const std::string kNone;
  for (const v1::PreviousYearRule& rule : policy.previous_year_rules()) {
    if (rule.rule_id() == rule_id && rule.ladder_id() == ladder_id) return rule.step_id();
  }
  return kNone;
}

void EvaluatePreviousYearRules(const Ctx& c, v1::PupilEscalation& out) {
  if (c.policy.previous_year_rules().empty()) return;
  const int year = ledger::AcademicYearOf(c.as_of);
  const Day year_start = ledger::AcademicYearStart(year);
  std::optional<Day> first_day;
  for (Day d = year_start; d < year_start + kYearStartSearch && d <= c.as_of; ++d) {
    if (c.cache.IsSchoolDay(d)) {
      first_day = d;
      break;
    }
  }
  if (!first_day) return;  // the year's school has not begun by as_of
  ResolvedWindow last_year;
  last_year.first = ledger::AcademicYearStart(year - 1);
  last_year.last = year_start - 1;
  last_year.label = absl::StrFormat("%d-%02d, the previous year", year - 1, year % 100);
  for (const v1::PreviousYearRule& rule : c.policy.previous_year_rules()) {
    Day through = kNever;
    if (!rule.due_through().empty()) through = DueThrough(rule.due_through(), year);
    if (c.as_of > through) continue;
    if (DoneBetween(c.in, rule.rule_id(), year_start, c.as_of)) continue;
    const v1::Ladder* ladder = nullptr;
    for (const v1::Ladder& l : c.policy.ladders()) {
      if (l.ladder_id() == rule.ladder_id()) ladder = &l;
    }
    const std::string outcome = absl::StrCat(
        rule.rule_id(), " due", through == kNever ? "" : " by " + ledger::FormatDate(through),
        rule.step_id().empty()
            ? ""
            : absl::StrCat("; sending it does ", rule.step_id(), " on ", rule.ladder_id()));
    const ConditionResult r = Judge(c, rule.attendance(), last_year);
    v1::DueAction due;
    due.set_pupil_id(c.in.pupil_id);
    due.set_rule_id(rule.rule_id());
    due.set_ladder_id(rule.ladder_id());
    due.set_action(rule.action());
    due.set_due_on(ledger::FormatDate(*first_day));
    due.set_priority(rule.priority() != 0 || ladder == nullptr ? rule.priority()
                                                               : ladder->priority());
    if (r.holds) {
      *due.mutable_explanation() =
          ConditionExplanation(c, rule.rule_id(), r, rule.attendance(), c.as_of, outcome);
      *out.add_due() = std::move(due);
      continue;
    }
    // Last year's marks amended since: due as first recorded, not now.
    if (c.as_first_recorded == nullptr) continue;
    const ConditionResult was = Judge(*c.as_first_recorded, rule.attendance(), last_year);
    if (!was.holds) continue;
    *due.mutable_explanation() =
        ConditionExplanation(*c.as_first_recorded, rule.rule_id(), was, rule.attendance(), c.as_of,
                             absl::StrCat(outcome, " as first recorded"));
    Supersede(due, LatestAmendment(c.in, 0, c.as_of, last_year.first, last_year.last, nullptr));
    *out.add_superseded() = std::move(due);
  }
}

}  // namespace attendance::projections::escalation_internal
