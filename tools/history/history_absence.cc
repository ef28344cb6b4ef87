// One pupil-year's absences, lates and N amendments: illness weighted to the
// winter, unauthorised days to Mondays, Fridays and the days before a break,
// holidays in term time just before a break.
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "history/history_plan.h"

namespace attendance::history {
namespace {

constexpr int kSessionStartMinute = 8 * 60 + 45;  // 08:45; registers close 09:20

// How much more likely a day is than an ordinary one, in per cent.
int IllnessSeason(Day d) {
  // September .. August: winter colds and flu peak from December to February.
  static constexpr std::array<int, 12> kByMonth = {170, 150, 115, 85, 75,  60,
                                                   60,  60,  75,  95, 120, 165};
  const std::string date = ledger::FormatDate(d);
  const int month = std::stoi(date.substr(5, 2));
  return kByMonth[static_cast<size_t>(month - 1)];
}
int IllnessWeekday(int weekday) {
  static constexpr std::array<int, 5> kMonToFri = {118, 100, 95, 95, 108};
  return kMonToFri[static_cast<size_t>(weekday)];
}
int UnauthorisedWeekday(int weekday) {
  static constexpr std::array<int, 5> kMonToFri = {160, 85, 75, 85, 165};
  return kMonToFri[static_cast<size_t>(weekday)];
}

// Days before the end of a half-term (0 = its last day), or a large number.
std::vector<size_t> DaysToBreak(const YearPlan& year) {
  std::vector<size_t> to_break(year.days.size(), 1000);
  for (size_t end : year.half_ends) {
    for (size_t k = 0; k < 5 && k <= end; ++k) to_break[end - k] = std::min(to_break[end - k], k);
  }
  return to_break;
}

class DaySampler {
 public:
  explicit DaySampler(std::vector<int> weights) : cumulative_(weights.size()) {
    int total = 0;
    for (size_t i = 0; i < weights.size(); ++i) cumulative_[i] = total += weights[i];
  }
  size_t Sample(Random& rng) const {
    const int r = rng.Between(0, cumulative_.back() - 1);
    return static_cast<size_t>(std::upper_bound(cumulative_.begin(), cumulative_.end(), r) -
                               cumulative_.begin());
  }

 private:
  std::vector<int> cumulative_;
};

struct Samplers {
  DaySampler illness;
  DaySampler unauthorised;
  DaySampler uniform;
};

Samplers MakeSamplers(const YearPlan& year) {
  const std::vector<size_t> to_break = DaysToBreak(year);
  std::vector<int> illness, unauthorised, uniform;
  for (size_t i = 0; i < year.days.size(); ++i) {
    const int wd = ledger::Weekday(year.days[i]);
    const int before = to_break[i] < 2 ? 130 : 100;
    illness.push_back(IllnessSeason(year.days[i]) * IllnessWeekday(wd) * before / 100);
    unauthorised.push_back(UnauthorisedWeekday(wd) * (to_break[i] < 3 ? 190 : 100));
    uniform.push_back(100);
  }
  return {DaySampler(illness), DaySampler(unauthorised), DaySampler(uniform)};
}

bool IsPresent(const Entry& e, int s) { return e.code == (s == 0 ? "/" : "\\"); }

}  // namespace

void PlanAttendance(const YearPlan& year, PupilYear& p, Random& rng) {
  const size_t n = p.entries.size();
  int possible = 0;
  size_t last_on_roll = 0;
  for (size_t i = 0; i < n; ++i) {
    for (int s = 0; s < 2; ++s) {
      const std::string& c = p.entries[i][static_cast<size_t>(s)].code;
      if (c.empty()) continue;
      last_on_roll = i;
      if (c != "#") ++possible;
    }
  }
  if (possible == 0) return;
  int rate = 0;  // permille of possible sessions absent
  switch (p.profile) {
    case Profile::kGood:
      rate = rng.Permille(400) ? rng.Between(0, 10) : rng.Between(10, 40);
      break;
    case Profile::kMid:
      rate = rng.Between(55, 90);
      break;
    case Profile::kPersistent:
      rate = rng.Between(115, 250);
      break;
    case Profile::kSevere:
      rate = rng.Between(530, 720);
      break;
  }
  int remaining = (possible * rate + 500) / 1000;
  auto free_day = [&](size_t i) {
    return i < n && IsPresent(p.entries[i][0], 0) && IsPresent(p.entries[i][1], 1);
  };
  auto free_session = [&](size_t i, int s) {
    return i < n && IsPresent(p.entries[i][static_cast<size_t>(s)], s);
  };
  auto amend = [&](size_t day, v1::Session s, const char* code, std::uint32_t minutes,
                   std::string reason, size_t on, int minute) {
    p.amendments.push_back(
        {day, s, code, minutes, std::move(reason), std::min(on, last_on_roll), minute});
  };

  // A family holiday in term time, ending on the last day before a break.
  // Before 19 August 2024 a school could authorise one (H).
  const int holiday_permille = p.profile == Profile::kPersistent ? 320
                               : p.profile == Profile::kMid      ? 150
                               : p.profile == Profile::kSevere   ? 100
                                                                 : 0;
  if (remaining >= 6 && rng.Permille(holiday_permille)) {
    const size_t len = static_cast<size_t>(std::min(5, remaining / 2));
    const size_t end = year.half_ends[static_cast<size_t>(
                           rng.Between(0, static_cast<int>(year.half_ends.size()) - 1))] +
                       1;
    bool ok = end >= len;
    for (size_t i = end - len; ok && i < end; ++i) ok = free_day(i);
    if (ok) {
      const bool legacy = year.days[end - 1] < *ledger::ParseDate("2024-08-19");
      const char* code = legacy && rng.Permille(500) ? "H" : "G";
      for (size_t i = end - len; i < end; ++i) {
        p.entries[i][0] = {code, 0, i == end - len ? "Family holiday in term time" : ""};
        p.entries[i][1] = {code, 0, ""};
      }
      remaining -= 2 * static_cast<int>(len);
    }
  }

  const Samplers samplers = MakeSamplers(year);
  // Episode weights: illness, medical, N day, O day, U, O session, O block,
  // N session resolved as an appointment.
  std::array<int, 8> weights{};
  switch (p.profile) {
    case Profile::kGood:
      weights = {45, 25, 8, 3, 8, 5, 0, 6};
      break;
    case Profile::kMid:
      weights = {40, 12, 14, 10, 9, 8, 0, 7};
      break;
    case Profile::kPersistent:
      weights = {32, 8, 18, 22, 7, 6, 4, 3};
      break;
    case Profile::kSevere:
      weights = {15, 4, 15, 20, 4, 0, 40, 2};
      break;
  }
  int total_weight = 0;
  for (int w : weights) total_weight += w;
  for (int attempt = 0; remaining > 0 && attempt < 20000; ++attempt) {
    int pick = rng.Between(0, total_weight - 1);
    size_t kind = 0;
    while (pick >= weights[kind]) pick -= weights[kind++];
    const DaySampler& sampler = kind == 0                             ? samplers.illness
                                : kind == 2 || kind == 3 || kind == 4 ? samplers.unauthorised
                                                                      : samplers.uniform;
    const size_t start = sampler.Sample(rng);
    switch (kind) {
      case 0:    // illness, 1-3 days
      case 6: {  // unexplained absence, 3-8 days
        size_t len = static_cast<size_t>(kind == 0 ? (rng.Permille(600) ? 1 : rng.Between(2, 3))
                                                   : rng.Between(3, 8));
        len = std::min(len, static_cast<size_t>(remaining / 2));
        if (len == 0) break;
        bool ok = true;
        for (size_t i = start; ok && i < start + len; ++i) ok = free_day(i);
        if (!ok) break;
        for (size_t i = start; i < start + len; ++i) {
          const char* code = kind == 0 ? "I" : "O";
          const char* comment = i != start  ? ""
                                : kind == 0 ? "Parent phoned 08:35: unwell"
                                            : "No contact from home";
          p.entries[i][0] = {code, 0, comment};
          p.entries[i][1] = {code, 0, ""};
        }
        remaining -= 2 * static_cast<int>(len);
        break;
      }
      case 1: {  // medical appointment, one session
        const int s = rng.Between(0, 1);
        if (!free_session(start, s)) break;
        p.entries[start][static_cast<size_t>(s)] = {
            "M", 0, rng.Permille(500) ? "Dental appointment" : "Hospital appointment"};
        remaining -= 1;
        break;
      }
      case 2: {  // N on the day, resolved one to four school days later
        if (remaining < 2 || !free_day(start)) break;
        p.entries[start][0] = {"N", 0, "No reason given yet"};
        p.entries[start][1] = {"N", 0, ""};
        const bool illness = rng.Permille(600);
        const size_t on = start + static_cast<size_t>(rng.Between(1, 4));
        const int minute = rng.Between(15 * 60 + 30, 16 * 60 + 40);
        for (v1::Session s : {v1::AM, v1::PM}) {
          amend(start, s, illness ? "I" : "O", 0,
                illness ? "Parent confirmed illness by phone"
                        : "No reason received by the N-code deadline",
                on, minute + (s == v1::AM ? 0 : 1));
        }
        remaining -= 2;
        break;
      }
      case 3: {  // unauthorised day
        if (remaining < 2 || !free_day(start)) break;
        p.entries[start][0] = {"O", 0, "Reason given was not accepted"};
        p.entries[start][1] = {"O", 0, ""};
        remaining -= 2;
        break;
      }
      case 4: {  // arrived after the register closed: N, then U on arrival
        if (!free_session(start, 0)) break;
        const int minutes = rng.Between(36, 95);
        const int arrived = kSessionStartMinute + minutes;
        p.entries[start][0] = {"N", 0, ""};
        amend(start, v1::AM, "U", static_cast<std::uint32_t>(minutes),
              absl::StrFormat("Arrived %02d:%02d, after the register closed", arrived / 60,
                              arrived % 60),
              start, arrived);
        remaining -= 1;
        break;
      }
      case 5: {  // unauthorised session
        if (!free_session(start, 1)) break;
        p.entries[start][1] = {"O", 0, "Collected at lunchtime without permission"};
        remaining -= 1;
        break;
      }
      case 7: {  // N in the morning, an appointment card brought in later
        if (!free_session(start, 0)) break;
        p.entries[start][0] = {"N", 0, ""};
        amend(start, v1::AM, "M", 0, "Parent sent the appointment card",
              start + static_cast<size_t>(rng.Between(1, 3)), rng.Between(9 * 60 + 30, 12 * 60));
        remaining -= 1;
        break;
      }
      default:
        break;
    }
  }

  // Lates before the register closed (L), mostly in the morning.
  const int late_permille = p.profile == Profile::kGood ? rng.Between(0, 30) : rng.Between(20, 90);
  for (size_t i = 0; i < n; ++i) {
    if (IsPresent(p.entries[i][0], 0) && rng.Permille(late_permille)) {
      p.entries[i][0] = {"L", static_cast<std::uint32_t>(rng.Between(2, 28)), ""};
    }
    if (IsPresent(p.entries[i][1], 1) && rng.Permille(late_permille / 6)) {
      p.entries[i][1] = {"L", static_cast<std::uint32_t>(rng.Between(2, 15)),
                         "Late back from lunch"};
    }
  }
}

}  // namespace attendance::history
