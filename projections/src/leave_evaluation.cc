// A leave request against the school's leave rules (leave_evaluation.h).
#include "projections/leave_evaluation.h"

#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "escalation_internal.h"
#include "ledger/text_checks.h"

namespace attendance::projections {
namespace {

using escalation_internal::CountsOf;
using escalation_internal::Ctx;
using escalation_internal::FillWindow;
using escalation_internal::NewExplanation;
using escalation_internal::Percent;
using escalation_internal::Resolve;

const char* SessionName(v1::Session s) { return s == v1::AM ? "AM" : "PM"; }

std::string RangeText(const LeaveRange& r) {
  return absl::StrCat(ledger::FormatDate(r.first), " ", SessionName(r.first_session), "..",
                      ledger::FormatDate(r.last), " ", SessionName(r.last_session));
}

std::string WindowText(const ResolvedWindow& w) {
  if (w.empty()) return w.label;
  return absl::StrCat(w.label, ", ", ledger::FormatDate(w.first), "..", ledger::FormatDate(w.last));
}

// The school sessions of the range for the pupil's year group on each day.
std::uint32_t SchoolSessions(const EscalationInputs& in, const LeaveRange& r, Day as_of) {
  std::uint32_t sessions = 0;
  for (Day day = r.first; day <= r.last; ++day) {
    if (!in.calendar->IsSchoolDay(day)) continue;
    const v1::Pupil* details = in.pupil ? in.pupil->AttributesAt(day, as_of) : nullptr;
    const int year_group = details ? details->year_group() : 0;
    for (v1::Session session : {v1::AM, v1::PM}) {
      if (day == r.first && session < r.first_session) continue;
      if (day == r.last && session > r.last_session) continue;
      if (!in.calendar->IsClosed(day, session, year_group)) ++sessions;
    }
  }
  return sessions;
}

// The first of the `n` school days before `day` (day itself if n == 0).
Day SchoolDaysBefore(EvaluationCache& cache, Day day, std::uint32_t n) {
  Day found = day;
  std::uint32_t seen = 0;
  for (Day d = day - 1; seen < n && d > day - escalation_internal::kMaxSchoolDaySearch; --d) {
    if (cache.IsSchoolDay(d)) {
      found = d;
      ++seen;
    }
  }
  return found;
}

class Checks {
 public:
  Checks(const Ctx& c, v1::LeaveEvaluation& out) : c_(c), out_(out) {}

  void Add(const std::string& rule, bool passed, v1::Explanation e, const std::string& sentence) {
    e.set_sentence(absl::StrCat(sentence, passed ? " -> pass" : " -> refuse"));
    v1::LeaveRuleCheck& check = *out_.add_checks();
    check.set_rule(rule);
    check.set_passed(passed);
    if (!passed) failed_.push_back(e.sentence());
    *check.mutable_explanation() = std::move(e);
  }
  v1::Explanation New(const std::string& rule_id) const { return NewExplanation(c_, rule_id); }
  const std::vector<std::string>& failed() const { return failed_; }

 private:
  const Ctx& c_;
  v1::LeaveEvaluation& out_;
  std::vector<std::string> failed_;
};

void CheckNotice(const Ctx& c, const v1::LeaveRules& rules, const LeaveRange& r, Checks& checks) {
  if (rules.notice_days() == 0) return;
  const Day ahead = r.first - c.as_of;
  v1::Explanation e = checks.New("notice");
  e.set_count(static_cast<std::uint32_t>(ahead < 0 ? 0 : ahead));
  e.set_threshold(rules.notice_days());
  const bool passed = ahead >= static_cast<Day>(rules.notice_days());
  checks.Add("notice", passed, std::move(e),
             absl::StrCat("requested on ", ledger::FormatDate(c.as_of), ", ", ahead,
                          " days before the leave's first day ", ledger::FormatDate(r.first),
                          passed ? " >= " : " < ", rules.notice_days(), " days' notice"));
}

void CheckAssessments(const Ctx& c, const v1::LeaveRules& rules, const LeaveRange& r,
                      Checks& checks) {
  for (const v1::AssessmentWindow& window : rules.assessment_windows()) {
    const std::optional<Day> first = ledger::ParseDate(window.first_day());
    const std::optional<Day> last = ledger::ParseDate(window.last_day());
    if (!first || !last) continue;  // the policy's validation refuses these
    const Day from = SchoolDaysBefore(c.cache, *first, rules.school_days_before_assessment());
    const bool overlaps = r.first <= *last && r.last >= from;
    v1::Explanation e = checks.New(window.name());
    e.set_window_label(window.name());
    e.set_window_first(ledger::FormatDate(from));
    e.set_window_last(window.last_day());
    e.set_threshold(rules.school_days_before_assessment());
    const std::string before =
        rules.school_days_before_assessment() == 0
            ? ""
            : absl::StrCat(" or the ", rules.school_days_before_assessment(),
                           " school days before it (from ", ledger::FormatDate(from), ")");
    checks.Add(
        "assessment", !overlaps, std::move(e),
        absl::StrCat("leave ", RangeText(r), overlaps ? " falls in " : " is clear of ",
                     window.name(), " ", window.first_day(), "..", window.last_day(), before));
  }
}

void CheckUnauthorised(const Ctx& c, const v1::LeaveRules& rules, Checks& checks) {
  if (rules.unauthorised_window().kind() == v1::POLICY_WINDOW_UNSPECIFIED) return;
  const ResolvedWindow w = Resolve(c, rules.unauthorised_window(), c.as_of);
  const AttendanceCounts counts = CountsOf(c, w, c.as_of);
  v1::Explanation e = checks.New("unauthorised_absence");
  FillWindow(w, &e);
  e.set_possible(counts.possible);
  e.set_attended(counts.attended);
  e.set_count(counts.unauthorised);
  e.set_threshold(rules.max_unauthorised_sessions());
  const bool passed = counts.unauthorised <= rules.max_unauthorised_sessions();
  const std::string allowed = rules.max_unauthorised_sessions() == 0
                                  ? std::string("none allowed")
                                  : absl::StrCat("at most ", rules.max_unauthorised_sessions());
  checks.Add("unauthorised_absence", passed, std::move(e),
             absl::StrCat(counts.unauthorised, " unauthorised ",
                          counts.unauthorised == 1 ? "session" : "sessions", " (", WindowText(w),
                          ") on ", ledger::FormatDate(c.as_of), "; ", allowed));
}

void CheckAuthorised(const Ctx& c, const v1::LeaveRules& rules, Checks& checks) {
  if (rules.max_authorised_basis_points() == 0) return;
  const ResolvedWindow w = Resolve(c, rules.authorised_window(), c.as_of);
  const AttendanceCounts counts = CountsOf(c, w, c.as_of);
  v1::Explanation e = checks.New("authorised_absence");
  FillWindow(w, &e);
  e.set_possible(counts.possible);
  e.set_attended(counts.attended);
  e.set_count(counts.authorised);
  e.set_basis_points(rules.max_authorised_basis_points());
  e.set_comparison(v1::ABOVE);
  // Refused only above the share: 10000 * authorised > bp * possible.
  const bool above = 10000ull * counts.authorised >
                     std::uint64_t{rules.max_authorised_basis_points()} * counts.possible;
  checks.Add("authorised_absence", !above, std::move(e),
             absl::StrCat("authorised absence ", Percent(counts.authorised, counts.possible), " (",
                          counts.authorised, "/", counts.possible, " sessions, ", WindowText(w),
                          ") on ", ledger::FormatDate(c.as_of), above ? " > " : " <= ",
                          FormatBasisPoints(rules.max_authorised_basis_points())));
}

void CheckAttendanceAfter(const Ctx& c, const v1::LeaveRules& rules, std::uint32_t sessions,
                          Checks& checks) {
  if (rules.min_attendance_basis_points() == 0) return;
  const ResolvedWindow w = Resolve(c, rules.attendance_window(), c.as_of);
  const AttendanceCounts counts = CountsOf(c, w, c.as_of);
  const std::uint32_t possible = counts.possible + sessions;
  v1::Explanation e = checks.New("attendance_after_leave");
  FillWindow(w, &e);
  e.set_possible(possible);
  e.set_attended(counts.attended);
  e.set_count(sessions);
  e.set_basis_points(rules.min_attendance_basis_points());
  e.set_comparison(v1::BELOW);
  const bool below =
      Compare(counts.attended, possible, rules.min_attendance_basis_points(), v1::BELOW);
  checks.Add("attendance_after_leave", !below, std::move(e),
             absl::StrCat("attendance with the ", sessions, " requested sessions absent ",
                          Percent(counts.attended, possible), " (", counts.attended, "/", possible,
                          " sessions, ", WindowText(w), " on ", ledger::FormatDate(c.as_of),
                          ", then the leave)", below ? " < " : " >= ",
                          FormatBasisPoints(rules.min_attendance_basis_points())));
}

}  // namespace

absl::StatusOr<v1::LeaveEvaluation> EvaluateLeave(const EscalationInputs& inputs,
                                                  const LeaveRange& range, Day as_of) {
  if (inputs.calendar == nullptr) {
    return absl::FailedPreconditionError("the school has no calendar (SetSchoolCalendar)");
  }
  const std::uint32_t sessions = SchoolSessions(inputs, range, as_of);
  if (sessions == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("first_date: ", RangeText(range),
                     " holds no school session for the pupil (weekends, holidays, closures, ",
                     "or dates the school's calendar does not hold yet)"));
  }
  static const v1::EscalationPolicy kNoPolicy;
  const v1::EscalationPolicy& policy = inputs.policy ? *inputs.policy : kNoPolicy;
  std::optional<EvaluationCache> own;
  if (inputs.cache == nullptr) own.emplace(*inputs.calendar);
  const Ctx c{inputs, as_of, policy, inputs.cache ? *inputs.cache : *own};

  v1::LeaveEvaluation out;
  out.set_pupil_id(inputs.pupil_id);
  out.set_as_of(ledger::FormatDate(as_of));
  out.set_policy_id(policy.policy_id());
  out.set_policy_version(policy.version());
  out.set_sessions(sessions);
  Checks checks(c, out);
  const v1::LeaveRules& rules = policy.leave_rules();
  CheckNotice(c, rules, range, checks);
  CheckAssessments(c, rules, range, checks);
  CheckUnauthorised(c, rules, checks);
  CheckAuthorised(c, rules, checks);
  CheckAttendanceAfter(c, rules, sessions, checks);

  const std::string what = absl::StrCat("leave ", RangeText(range), " (", sessions, " sessions)");
  if (!checks.failed().empty()) {
    out.set_recommendation(v1::LEAVE_REFUSE);
    out.set_sentence(absl::StrCat("refuse ", what, ": ", absl::StrJoin(checks.failed(), "; ")));
  } else if (rules.when_no_rule_refuses() == v1::LEAVE_APPROVE) {
    out.set_recommendation(v1::LEAVE_APPROVE);
    out.set_sentence(absl::StrCat("approve ", what, ": no rule refuses it"));
  } else {
    out.set_recommendation(v1::LEAVE_REFER_TO_HEADTEACHER);
    out.set_sentence(
        absl::StrCat("refer ", what, " to the headteacher: ",
                     out.checks().empty() ? "the policy sets no leave rules" : "no rule refuses it",
                     "; leave in term time is granted only in exceptional circumstances"));
  }
  return out;
}

absl::StatusOr<v1::LeaveEvaluation> QueryLeaveEvaluation(
    const EscalationState& state, const v1::EvaluateLeaveRequestRequest& request, Day today) {
  if (absl::Status s = ledger::CheckId(request.school_id(), "school_id"); !s.ok()) return s;
  const SchoolState* school = state.attendance().FindSchool(request.school_id());
  if (school == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("school_id: ", ledger::Quoted(request.school_id()), " is not a known school"));
  }
  if (absl::Status s = ledger::CheckId(request.pupil_id(), "pupil_id"); !s.ok()) return s;
  Day as_of = today;
  if (!request.as_of().empty()) {
    absl::StatusOr<Day> d = ledger::CheckDate(request.as_of(), "as_of");
    if (!d.ok()) return d.status();
    as_of = *d;
  }
  absl::StatusOr<Day> first = ledger::CheckDate(request.first_date(), "first_date");
  if (!first.ok()) return first.status();
  absl::StatusOr<Day> last = ledger::CheckDate(request.last_date(), "last_date");
  if (!last.ok()) return last.status();
  for (auto [session, field] : {std::pair{request.first_session(), "first_session"},
                                std::pair{request.last_session(), "last_session"}}) {
    if (session != v1::AM && session != v1::PM) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": ", static_cast<int>(session), " is not AM or PM"));
    }
  }
  const LeaveRange range{*first, request.first_session(), *last, request.last_session()};
  if (range.last < range.first ||
      (range.last == range.first && range.last_session < range.first_session)) {
    return absl::InvalidArgumentError(absl::StrCat("last_date: ", request.last_date(),
                                                   " is before first_date ", request.first_date()));
  }
  if (range.last - range.first >= 366) {
    return absl::InvalidArgumentError(absl::StrCat("last_date: ", request.last_date(),
                                                   " is more than 366 days after first_date"));
  }
  const PupilState* pupil = school->FindPupil(request.pupil_id());
  if (pupil == nullptr || !pupil->KnownAsOf(as_of)) {
    return absl::NotFoundError(
        absl::StrCat("pupil_id: ", ledger::Quoted(request.pupil_id()), " is not a pupil of school ",
                     ledger::Quoted(request.school_id()), " on ", ledger::FormatDate(as_of)));
  }
  ledger::SchoolCalendar scratch;
  const EscalationInputs in =
      state.InputsFor(request.school_id(), request.pupil_id(), as_of, &scratch);
  absl::StatusOr<v1::LeaveEvaluation> result = EvaluateLeave(in, range, as_of);
  if (result.ok()) result->set_school_id(request.school_id());
  return result;
}

}  // namespace attendance::projections
