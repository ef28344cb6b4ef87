// Letters and meetings as the demo school's policy (policies/000_..., seed
// 000) has the attendance team do them at its fortnightly reviews: Letter 1
// below 95% year to date, Letter 2 after two weeks without improvement,
// Letter 3 below 90% with a School Attendance Panel meeting and a target,
// Letter 4 at the panel's review, Letter 5 and a referral to the education
// welfare officer; a home visit on the third consecutive day of unexplained
// absence (the policy's home_visit_3_days trigger).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "history/history_plan.h"

namespace attendance::history {
namespace {

constexpr size_t kFirstReview = 20;  // school days into the year
constexpr size_t kReviewEvery = 10;  // "reviews every 2 weeks"
constexpr int kMinPossible = 20;     // the demo school's min_possible_sessions

bool Attended(const std::string& c) { return c == "/" || c == "\\" || c == "L"; }
bool Possible(const std::string& c) { return !c.empty() && c != "#"; }

std::string Percent(int basis_points) {
  return absl::StrFormat("%d.%d%%", basis_points / 100, basis_points % 100 / 10);
}

}  // namespace

void PlanEscalation(const YearPlan& year, PupilYear& p, Random& rng) {
  const size_t n = p.entries.size();
  // Final codes, amendments applied.
  std::vector<std::array<std::string, 2>> code(n);
  for (size_t i = 0; i < n; ++i) {
    code[i] = {p.entries[i][0].code, p.entries[i][1].code};
  }
  for (const Amendment& a : p.amendments) {
    code[a.day][a.session == v1::AM ? 0 : 1] = a.code;
  }
  std::vector<int> possible(n + 1, 0), attended(n + 1, 0);
  for (size_t i = 0; i < n; ++i) {
    possible[i + 1] = possible[i];
    attended[i + 1] = attended[i];
    for (const std::string& c : code[i]) {
      possible[i + 1] += Possible(c) ? 1 : 0;
      attended[i + 1] += Attended(c) ? 1 : 0;
    }
  }
  auto on_roll = [&](size_t i) { return i < n && !p.entries[i][0].code.empty(); };
  const std::string year_tag = absl::StrCat(year.academic_year);
  auto meeting = [&](size_t day, const std::string& id, const std::string& step, int target,
                     size_t review_after, const std::string& reviews, const std::string& outcome) {
    Action a;
    a.day = day;
    a.request.set_action_id(id);
    a.request.set_kind(v1::MEETING_HELD);
    a.request.set_step_id(step);
    a.request.set_target_basis_points(static_cast<std::uint32_t>(target));
    a.request.set_review_on(ledger::FormatDate(year.days[std::min(n - 1, day + review_after)] +
                                               (day + review_after >= n ? 7 : 0)));
    a.request.set_reviews_action_id(reviews);
    a.request.set_outcome(outcome);
    p.actions.push_back(std::move(a));
  };

  int stage = 0;
  int last_ytd = 0;
  size_t due = 0;
  for (size_t r = kFirstReview; r < n && stage < 5; r += kReviewEvery) {
    if (!on_roll(r) || r < due) continue;
    if (possible[r] < kMinPossible) continue;
    const int ytd = attended[r] * 10000 / possible[r];
    const bool improved = ytd > last_ytd;
    auto letter = [&](const char* id, std::string note) {
      p.letters.push_back({r, id, std::move(note)});
    };
    switch (stage) {
      case 0:
        if (ytd >= 9500) break;
        letter("letter_1",
               absl::StrCat("Attendance ", Percent(ytd), " year to date; two weeks' monitoring"));
        stage = 1;
        break;
      case 1:
        if (improved) {
          stage = 5;
          break;
        }
        letter("letter_2", absl::StrCat("No improvement: ", Percent(ytd), " year to date"));
        stage = 2;
        break;
      case 2:
        if (improved) {
          stage = 5;
          break;
        }
        if (ytd >= 9000) break;
        letter("letter_3", absl::StrCat("Below 90% (", Percent(ytd),
                                        "): invitation to the School Attendance "
                                        "Panel"));
        if (on_roll(r + 3)) {
          meeting(r + 3, absl::StrCat(year_tag, "-sap-1"), "letter_3", 9000, 15, "",
                  rng.Permille(750) ? "Panel held with parent; target 90% in three weeks"
                                    : "Parent did not attend; target set in writing");
        }
        stage = 3;
        due = r + 15;
        break;
      case 3:
        if (improved) {
          stage = 5;
          break;
        }
        letter("letter_4", absl::StrCat("Panel review: ", Percent(ytd), "; a further two weeks"));
        if (on_roll(r + 2)) {
          meeting(r + 2, absl::StrCat(year_tag, "-sap-2"), "letter_4", 9000, 10,
                  absl::StrCat(year_tag, "-sap-1"), "Panel review: target not met, extended");
        }
        stage = 4;
        break;
      case 4: {
        if (improved) {
          stage = 5;
          break;
        }
        letter("letter_5", absl::StrCat("Final panel: ", Percent(ytd), "; legal intervention"));
        if (on_roll(r + 2)) {
          Action a;
          a.day = r + 2;
          a.request.set_action_id(absl::StrCat(year_tag, "-ewo"));
          a.request.set_kind(v1::REFERRAL_MADE);
          a.request.set_referred_to(v1::EDUCATION_WELFARE_OFFICER);
          a.request.set_step_id("letter_5");
          a.request.set_outcome("Referred to the education welfare officer");
          p.actions.push_back(std::move(a));
        }
        stage = 5;
        break;
      }
      default:
        break;
    }
    last_ytd = ytd;
    if (stage != 3) due = r + kReviewEvery;
  }

  // Home visits: the third whole day in a row of unexplained absence (as
  // the register showed it then: N or O).
  size_t run = 0;
  for (size_t i = 0; i < n; ++i) {
    const bool unexplained = (p.entries[i][0].code == "N" || p.entries[i][0].code == "O") &&
                             (p.entries[i][1].code == "N" || p.entries[i][1].code == "O");
    if (!on_roll(i) || p.entries[i][0].code == "#") continue;  // closures do not break a run
    run = unexplained ? run + 1 : 0;
    if (run != 3) continue;
    Action a;
    a.day = i;
    a.request.set_action_id(absl::StrCat(year_tag, "-visit-", i));
    a.request.set_kind(v1::HOME_VISIT_MADE);
    a.request.set_trigger_id("home_visit_3_days");
    a.request.set_outcome(rng.Permille(500) ? "No answer; card left asking the parent to call"
                                            : "Spoke to the parent; return agreed");
    p.actions.push_back(std::move(a));
  }
}

}  // namespace attendance::history
