// Letters and meetings as the demo school's policy (policies/000_..., seed
// 000) has the attendance team do them at its fortnightly reviews: Letter 1
// below 95% year to date, Letter 2 after two weeks without improvement,
// Letter 3 below 90% with a School Attendance Panel meeting and a target,
// Letter 4 at the panel's review, Letter 5 and a referral to the education
// welfare officer. The policy's counted triggers are answered in
// history_triggers.cc.
#include <algorithm>
#include <array>
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
  // A panel meeting that sets a target, and the meeting that reviews it on
  // the review date (the policy's REVIEW action).
  auto meeting = [&](size_t day, const std::string& id, int target, size_t review_after,
                     const std::string& reviews, const std::string& outcome) {
    const size_t review_day = day + review_after;
    Action a;
    a.day = day;
    a.request.set_action_id(id);
    a.request.set_kind(v1::MEETING_HELD);
    a.request.set_target_basis_points(static_cast<std::uint32_t>(target));
    a.request.set_review_on(
        ledger::FormatDate(review_day < n ? year.days[review_day] : year.days[n - 1] + 7));
    a.request.set_reviews_action_id(reviews);
    a.request.set_outcome(outcome);
    p.actions.push_back(std::move(a));
    if (!on_roll(review_day)) return;
    const int period_possible = possible[review_day + 1] - possible[day + 1];
    const int period_attended = attended[review_day + 1] - attended[day + 1];
    const bool met = period_possible > 0 && period_attended * 10000 >= target * period_possible;
    Action review;
    review.day = review_day;
    review.request.set_action_id(id + "-review");
    review.request.set_kind(v1::MEETING_HELD);
    review.request.set_reviews_action_id(id);
    review.request.set_outcome(
        absl::StrCat("Review: ", Percent(period_attended * 10000 / std::max(1, period_possible)),
                     met ? " since the panel, target met" : " since the panel, target not met"));
    p.actions.push_back(std::move(review));
  };

  int stage = 0;
  int last_ytd = 0;
  size_t due = 0;
  for (size_t r = kFirstReview; r < n && stage < 5; r += kReviewEvery) {
    if (!on_roll(r) || r < due) continue;
    // Year to date at the end of the review day, as the worklist sees it.
    if (possible[r + 1] < kMinPossible) continue;
    const int ytd = attended[r + 1] * 10000 / possible[r + 1];
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
        if (ytd >= 9000) break;  // Letter 3 waits for attendance below 90%
        letter("letter_3", absl::StrCat("Below 90% (", Percent(ytd),
                                        "): invitation to the School Attendance "
                                        "Panel"));
        if (on_roll(r + 3)) {
          meeting(r + 3, absl::StrCat(year_tag, "-sap-1"), 9000, 15, "",
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
          meeting(r + 2, absl::StrCat(year_tag, "-sap-2"), 9000, 10, "",
                  "Second panel: a further two weeks' target");
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
}

}  // namespace attendance::history
