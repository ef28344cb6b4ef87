// The policy's counted triggers, answered as the attendance team would: a
// home visit on the third whole day in a row of G/N/O/U (home_visit_3_days),
// the local authority told after ten (la_return_10_continuous), a penalty
// notice considered the school day after 10 such sessions fall within 10
// school weeks (penalty_notice_10_in_10), and the Fast Track letters when
// 10 fall within 12 (fast_track_10_in_12: FT1, then FT2 with a formal
// meeting and FT3 after 20 school days each below 95%). Codes are the final
// ones, as the worklist sees them once N codes are resolved.
#include <array>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "history/history_plan.h"

namespace attendance::history {
namespace {

bool Unauthorised(const std::string& c) { return c == "G" || c == "N" || c == "O" || c == "U"; }
bool Attended(const std::string& c) { return c == "/" || c == "\\" || c == "L"; }
bool Possible(const std::string& c) { return !c.empty() && c != "#"; }

}  // namespace

void PlanTriggerAnswers(const YearPlan& year, PupilYear& p, Random& rng) {
  const size_t n = p.entries.size();
  if (n == 0) return;
  std::vector<std::array<std::string, 2>> code(n);
  for (size_t i = 0; i < n; ++i) code[i] = {p.entries[i][0].code, p.entries[i][1].code};
  for (const Amendment& a : p.amendments) code[a.day][a.session == v1::AM ? 0 : 1] = a.code;
  auto on_roll = [&](size_t i) { return i < n && !p.entries[i][0].code.empty(); };
  const std::string tag = absl::StrCat(year.academic_year);
  auto act = [&](size_t day, const std::string& id, v1::RecordedActionKind kind,
                 const char* trigger, std::string outcome) {
    if (!on_roll(day)) return;
    Action a;
    a.day = day;
    a.request.set_action_id(absl::StrCat(tag, "-", id));
    a.request.set_kind(kind);
    a.request.set_trigger_id(trigger);
    if (kind == v1::REFERRAL_MADE) a.request.set_referred_to(v1::LOCAL_AUTHORITY);
    a.request.set_outcome(std::move(outcome));
    p.actions.push_back(std::move(a));
  };

  // Runs of whole days (closures neither count nor break a run).
  size_t run = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!on_roll(i) || !Possible(code[i][0]) || !Possible(code[i][1])) continue;
    run = Unauthorised(code[i][0]) && Unauthorised(code[i][1]) ? run + 1 : 0;
    if (run == 3) {
      act(i, absl::StrCat("visit-", i), v1::HOME_VISIT_MADE, "home_visit_3_days",
          rng.Permille(500) ? "No answer; card left asking the parent to call"
                            : "Spoke to the parent; return agreed");
    } else if (run == 10) {
      act(i + 1, absl::StrCat("la-return-", i), v1::REFERRAL_MADE, "la_return_10_continuous",
          "Included in the return to the local authority: 10 school days absent");
    }
  }

  // Counts in rolling school weeks: the week (its Monday) of each day, and
  // the sessions of G/N/O/U up to each day.
  std::vector<Day> monday(n);
  std::vector<int> prefix(n + 1, 0);
  for (size_t i = 0; i < n; ++i) {
    monday[i] = year.days[i] - ledger::Weekday(year.days[i]);
    prefix[i + 1] =
        prefix[i] + (Unauthorised(code[i][0]) ? 1 : 0) + (Unauthorised(code[i][1]) ? 1 : 0);
  }
  // The day in the `weeks` school weeks up to day i on which the count
  // reached 10, or n.
  auto fired_on = [&](size_t i, int weeks) {
    size_t first = i;
    int seen = 1;
    while (first > 0 && (monday[first - 1] == monday[first] || seen < weeks)) {
      if (monday[first - 1] != monday[first]) ++seen;
      --first;
    }
    for (size_t k = first; k <= i; ++k) {
      if (prefix[k + 1] - prefix[first] >= 10) return k;
    }
    return n;
  };
  size_t penalty_answered = n;  // the day of the last answer; n = none
  size_t fast_track_from = n;
  for (size_t i = 0; i < n; ++i) {
    if (!on_roll(i)) continue;
    const size_t pn = fired_on(i, 10);
    if (pn < n && (penalty_answered == n || penalty_answered < pn)) {
      penalty_answered = on_roll(i + 1) ? i + 1 : i;
      const bool request = rng.Permille(350);
      act(penalty_answered, absl::StrCat("penalty-", penalty_answered),
          request ? v1::PENALTY_NOTICE_REQUESTED : v1::CALL_MADE, "penalty_notice_10_in_10",
          request ? "Penalty notice requested from the local authority"
                  : "Penalty notice considered: parent called and warned");
    }
    if (fast_track_from == n && fired_on(i, 12) < n && on_roll(i + 1)) fast_track_from = i + 1;
  }
  if (fast_track_from < n) {
    p.letters.push_back({fast_track_from, "fast_track_1",
                         "Fast Track: 10 unauthorised sessions within 12 school weeks"});
    size_t from = fast_track_from;
    for (const char* step : {"fast_track_2", "fast_track_3"}) {
      const size_t to = from + 20;
      if (!on_roll(to)) break;
      int poss = 0, att = 0;
      for (size_t k = from + 1; k <= to; ++k) {
        for (const std::string& c : code[k]) {
          poss += Possible(c) ? 1 : 0;
          att += Attended(c) ? 1 : 0;
        }
      }
      if (poss == 0 || att * 100 >= 95 * poss) break;  // improved: the Fast Track ends
      p.letters.push_back(
          {to, step,
           absl::StrCat("Fast Track: ", att, "/", poss, " sessions attended in 20 school days")});
      if (std::string(step) == "fast_track_2") {
        Action a;
        a.day = to + 2 < n ? to + 2 : to;
        a.request.set_action_id(absl::StrCat(tag, "-fast-track-meeting"));
        a.request.set_kind(v1::MEETING_HELD);
        a.request.set_outcome("Fast Track formal meeting with the parent");
        if (on_roll(a.day)) p.actions.push_back(std::move(a));
      }
      from = to;
    }
  }
}

}  // namespace attendance::history
