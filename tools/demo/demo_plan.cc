#include "demo/demo_plan.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ledger/calendar.h"

namespace attendance::demo {
namespace {

using ledger::Day;
using ledger::FormatDate;
using ledger::Principal;

// ---------------------------------------------------------------------------
// Dates.

Day Date(int y, int m, int d) {
  return *ledger::ParseDate(absl::StrFormat("%04d-%02d-%02d", y, m, d));
}
bool IsWeekday(Day d) { return ledger::Weekday(d) < 5; }
Day WeekdayOnOrAfter(Day d) {
  while (!IsWeekday(d)) ++d;
  return d;
}
Day MondayOnOrBefore(Day d) { return d - ledger::Weekday(d); }
Day MondayOnOrAfter(Day d) { return d + (7 - ledger::Weekday(d)) % 7; }
Day FridayOnOrBefore(Day d) { return d - (ledger::Weekday(d) + 3) % 7; }

// Anonymous Gregorian algorithm (Meeus/Jones/Butcher).
Day EasterSunday(int y) {
  const int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4;
  const int f = (b + 8) / 25, g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30;
  const int i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7;
  const int m = (a + 11 * h + 22 * l) / 451;
  const int month = (h + l - 7 * m + 114) / 31, day = (h + l - 7 * m + 114) % 31 + 1;
  return Date(y, month, day);
}

v1::HalfTerm MakeHalf(const std::string& name, Day first, Day last) {
  v1::HalfTerm half;
  half.set_name(name);
  half.set_first_day(FormatDate(first));
  half.set_last_day(FormatDate(last));
  return half;
}

void AddClosure(v1::SchoolCalendarSet& cal, Day day, v1::Session session,
                std::vector<int> year_groups, const std::string& reason) {
  v1::Closure* closure = cal.add_closures();
  closure->set_date(FormatDate(day));
  closure->set_session(session);
  for (int yg : year_groups) closure->add_year_groups(yg);
  closure->set_reason(reason);
}

// ---------------------------------------------------------------------------
// Deterministic randomness: std::mt19937_64 is fully specified by the
// standard; the distributions below are ours, so the output does not depend
// on the standard library's implementation of std::uniform_int_distribution.

class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}
  // Uniform in [lo, hi].
  int Between(int lo, int hi) {
    const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
    return lo + static_cast<int>(engine_() % span);
  }
  // True with probability permille / 1000.
  bool Permille(int permille) { return Between(0, 999) < permille; }
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[static_cast<size_t>(Between(0, static_cast<int>(items.size()) - 1))];
  }
  template <typename T>
  void Shuffle(std::vector<T>& items) {
    for (size_t i = items.size(); i > 1; --i) {
      std::swap(items[i - 1], items[static_cast<size_t>(Between(0, static_cast<int>(i) - 1))]);
    }
  }

 private:
  std::mt19937_64 engine_;
};

// ---------------------------------------------------------------------------
// The school.

const std::vector<std::string> kGirlNames = {
    "Olivia", "Amelia", "Isla",   "Ava",      "Ivy",   "Freya", "Lily",   "Florence", "Mia",
    "Willow", "Rosie",  "Sophia", "Isabella", "Grace", "Daisy", "Sienna", "Poppy",    "Elsie",
    "Aisha",  "Zainab", "Maryam", "Amira",    "Priya", "Zofia", "Maja",   "Chloe",    "Evie"};
const std::vector<std::string> kBoyNames = {
    "Noah",   "Muhammad", "George", "Oliver", "Leo",     "Arthur", "Oscar",  "Theodore", "Freddie",
    "Archie", "Jack",     "Harry",  "Henry",  "Charlie", "Alfie",  "Ethan",  "Jacob",    "Thomas",
    "Yusuf",  "Ibrahim",  "Ayaan",  "Kacper", "Jakub",   "Kofi",   "Tomasz", "Reuben",   "Louis"};
const std::vector<std::string> kFamilyNames = {
    "Smith",  "Jones",    "Taylor", "Brown",    "Williams", "Wilson", "Johnson",  "Davies",
    "Patel",  "Robinson", "Wright", "Thompson", "Evans",    "Walker", "White",    "Roberts",
    "Green",  "Hall",     "Khan",   "Ahmed",    "Hussain",  "Begum",  "Kowalski", "Nowak",
    "Mensah", "Okafor",   "Clarke", "Hughes",   "Edwards",  "Lewis",  "Turner",   "Hill",
    "Moore",  "Cooper",   "Ward",   "Morris"};
const std::vector<std::string> kClassTrees = {"Oak",    "Ash",   "Elm",   "Birch", "Rowan",
                                              "Willow", "Maple", "Hazel", "Cedar", "Holly",
                                              "Beech",  "Alder", "Larch", "Yew"};

}  // namespace

std::string SessionName(v1::Session s) { return s == v1::AM ? "AM" : "PM"; }

namespace {

// Counts final (amended) codes over days [0, end) as the statistics do.
struct Tally {
  int possible = 0;
  int absent = 0;
};
Tally Count(const DemoPupil& p, size_t end) {
  Tally t;
  std::map<std::pair<size_t, int>, std::string> amended;
  for (const PlannedAmendment& a : p.amendments) {
    amended[{a.day_index, a.session == v1::AM ? 0 : 1}] = a.amended_code;
  }
  for (size_t i = 0; i < end && i < p.plan.size(); ++i) {
    for (int s = 0; s < 2; ++s) {
      std::string code = p.plan[i][static_cast<size_t>(s)].code;
      if (auto it = amended.find({i, s}); it != amended.end()) code = it->second;
      if (code.empty() || code == "#") continue;
      ++t.possible;
      if (code != "/" && code != "\\" && code != "L") ++t.absent;
    }
  }
  return t;
}

// Places absences for one pupil until `target` absent sessions are planned.
void PlanAbsences(DemoPupil& p, int target, const std::vector<Day>& days, size_t autumn1_days,
                  Random& rng) {
  const size_t n = days.size();
  auto free_day = [&](size_t i) {
    return i < n && p.plan[i][0].code == "/" && p.plan[i][1].code == "\\";
  };
  auto free_session = [&](size_t i, int s) {
    return i < n && p.plan[i][static_cast<size_t>(s)].code == (s == 0 ? "/" : "\\");
  };
  int remaining = target;

  // A family holiday in term time (G), just before a break.
  const int holiday_permille = p.profile == Profile::kPersistent ? 300
                               : p.profile == Profile::kMid      ? 120
                                                                 : 0;
  if (remaining >= 6 && rng.Permille(holiday_permille)) {
    const int len = std::min(5, remaining / 2);
    // The last school days before October half term, or before Christmas.
    const size_t end = rng.Permille(500) ? autumn1_days : n;
    bool ok = end >= static_cast<size_t>(len);
    for (size_t i = end - static_cast<size_t>(len); ok && i < end; ++i) ok = free_day(i);
    if (ok) {
      for (size_t i = end - static_cast<size_t>(len); i < end; ++i) {
        p.plan[i][0] = {"G", 0, "Family holiday; leave was not authorised"};
        p.plan[i][1] = {"G", 0, ""};
      }
      remaining -= 2 * len;
    }
  }

  // Episode weights per profile: illness, medical, N then amended, O day,
  // U, O session, O block.
  std::array<int, 7> weights{};
  switch (p.profile) {
    case Profile::kGood:
      weights = {40, 30, 10, 4, 10, 6, 0};
      break;
    case Profile::kMid:
      weights = {40, 15, 15, 10, 10, 10, 0};
      break;
    case Profile::kPersistent:
      weights = {30, 10, 20, 25, 8, 7, 5};
      break;
    case Profile::kSevere:
      weights = {15, 5, 15, 20, 5, 0, 40};
      break;
  }
  const int total_weight =
      weights[0] + weights[1] + weights[2] + weights[3] + weights[4] + weights[5] + weights[6];
  for (int attempt = 0; remaining > 0 && attempt < 20000; ++attempt) {
    int pick = rng.Between(0, total_weight - 1);
    int kind = 0;
    while (pick >= weights[static_cast<size_t>(kind)]) pick -= weights[static_cast<size_t>(kind++)];
    const size_t start = static_cast<size_t>(rng.Between(0, static_cast<int>(n) - 1));
    switch (kind) {
      case 0:    // illness, 1-3 days
      case 6: {  // unexplained absence, 3-8 days
        int len = kind == 0 ? rng.Between(1, 3) : rng.Between(3, 8);
        len = std::min(len, remaining / 2);
        if (len == 0) break;
        bool ok = true;
        for (size_t i = start; ok && i < start + static_cast<size_t>(len); ++i) ok = free_day(i);
        if (!ok) break;
        for (size_t i = start; i < start + static_cast<size_t>(len); ++i) {
          if (kind == 0) {
            p.plan[i][0] = {"I", 0, i == start ? "Parent phoned 08:35: unwell" : ""};
            p.plan[i][1] = {"I", 0, ""};
          } else {
            p.plan[i][0] = {"O", 0, i == start ? "No contact; home visit made" : ""};
            p.plan[i][1] = {"O", 0, ""};
          }
        }
        remaining -= 2 * len;
        break;
      }
      case 1: {  // medical appointment, one session
        const int s = rng.Between(0, 1);
        if (!free_session(start, s)) break;
        p.plan[start][static_cast<size_t>(s)] = {
            "M", 0, rng.Permille(500) ? "Dental appointment" : "Hospital appointment"};
        remaining -= 1;
        break;
      }
      case 2: {  // N on the day, amended a few school days later
        if (remaining < 2 || !free_day(start)) break;
        p.plan[start][0] = {"N", 0, "No reason given yet"};
        p.plan[start][1] = {"N", 0, ""};
        const bool illness = rng.Permille(600);
        const size_t amend_on = std::min(n - 1, start + static_cast<size_t>(rng.Between(1, 4)));
        for (v1::Session s : {v1::AM, v1::PM}) {
          p.amendments.push_back({start, s, illness ? "I" : "O",
                                  illness ? "Parent confirmed illness by phone"
                                          : "No reason received by the N-code deadline",
                                  amend_on});
        }
        remaining -= 2;
        break;
      }
      case 3: {  // unauthorised day
        if (remaining < 2 || !free_day(start)) break;
        p.plan[start][0] = {"O", 0, "Parent gave a reason the school did not accept"};
        p.plan[start][1] = {"O", 0, ""};
        remaining -= 2;
        break;
      }
      case 4: {  // arrived after the register closed
        if (!free_session(start, 0)) break;
        p.plan[start][0] = {"U", static_cast<std::uint32_t>(rng.Between(35, 95)), ""};
        remaining -= 1;
        break;
      }
      case 5: {  // unauthorised session
        if (!free_session(start, 1)) break;
        p.plan[start][1] = {"O", 0, "Collected at lunchtime without permission"};
        remaining -= 1;
        break;
      }
      default:
        break;
    }
  }
}

}  // namespace

Plan MakePlan(const DemoOptions& options) {
  Plan plan;
  Random rng(options.seed);
  const int ay = options.academic_year;

  v1::SchoolSettings& settings = plan.settings;
  settings.set_school_name("Oakfield Primary School (demo)");
  settings.set_am_register_closes("09:20");
  settings.set_pm_register_closes("13:30");
  settings.set_min_possible_sessions(20);
  settings.set_n_code_deadline_school_days(5);
  settings.set_retention_years(6);
  for (std::uint32_t w : {4u, 6u, 10u, 12u}) settings.add_rolling_window_weeks(w);
  settings.set_persistent_absence_exclusive(false);
  settings.set_severe_absence_exclusive(false);

  plan.calendar = DemoCalendar(ay);
  ledger::SchoolCalendar calendar;
  calendar.Set(plan.calendar);
  const Day autumn_first = *ledger::ParseDate(plan.calendar.terms(0).half_terms(0).first_day());
  const Day autumn1_last = *ledger::ParseDate(plan.calendar.terms(0).half_terms(0).last_day());
  const Day autumn_last = *ledger::ParseDate(plan.calendar.terms(0).half_terms(1).last_day());
  // Term days, INSET days included: no register is taken on a closure, and
  // its sessions are recorded as "#".
  for (Day d = autumn_first; d <= autumn_last; ++d) {
    if (calendar.IsTermDay(d)) {
      plan.days.push_back(d);
      if (d <= autumn1_last) ++plan.autumn1_days;
    }
  }
  const size_t n = plan.days.size();

  // Pupils: Reception to Year 6, in contiguous id ranges, classes of <= 30,
  // plus two mid-term joiners.
  const int joiners = 2;
  const int total = options.pupils + joiners;
  std::vector<int> year_group_of(static_cast<size_t>(total));
  std::map<int, int> per_year;
  for (int i = 0; i < options.pupils; ++i) {
    year_group_of[static_cast<size_t>(i)] = i * 7 / options.pupils;
    ++per_year[year_group_of[static_cast<size_t>(i)]];
  }
  year_group_of[static_cast<size_t>(options.pupils)] = 2;
  year_group_of[static_cast<size_t>(options.pupils + 1)] = 5;
  std::map<int, int> seen_in_year;
  size_t tree = 0;
  std::map<std::string, std::string> class_names;
  const std::vector<std::string> teachers = {
      "Miss C. Patel", "Mr D. Hughes", "Mrs E. Okafor", "Ms F. Nowak",  "Mr G. Clarke",
      "Mrs H. Begum",  "Miss I. Ward", "Mr J. Turner",  "Mrs K. Evans", "Ms L. Mensah"};
  for (int i = 0; i < total; ++i) {
    DemoPupil p;
    const int yg = year_group_of[static_cast<size_t>(i)];
    v1::Pupil& pupil = p.pupil;
    pupil.set_pupil_id(absl::StrFormat("P%04d", i + 1));
    const bool female = rng.Permille(490);
    pupil.set_sex(female ? v1::FEMALE : v1::MALE);
    pupil.set_given_name(rng.Pick(female ? kGirlNames : kBoyNames));
    pupil.set_family_name(rng.Pick(kFamilyNames));
    // Born between 1 Sep and 31 Aug of the cohort's year.
    const Day born_from = Date(ay - 5 - yg, 9, 1);
    pupil.set_date_of_birth(FormatDate(born_from + rng.Between(0, 364)));
    pupil.set_year_group(yg);
    const int size = std::max(1, per_year[yg]);
    const int classes = (size + 29) / 30;
    const int index = i < options.pupils ? seen_in_year[yg]++ : 0;
    const int class_no = std::min(classes - 1, index * classes / size);
    p.class_key = absl::StrCat("y", yg, std::string(1, static_cast<char>('a' + class_no)));
    if (!class_names.count(p.class_key)) {
      class_names[p.class_key] = absl::StrCat(yg == 0 ? "Reception" : absl::StrCat("Year ", yg),
                                              " ", kClassTrees[tree % kClassTrees.size()]);
      plan.class_teacher[p.class_key] = teachers[tree % teachers.size()];
      ++tree;
    }
    pupil.set_class_name(class_names[p.class_key]);
    // Attributes, roughly the national mix for a primary school.
    const int send = rng.Between(0, 999);
    pupil.set_send(send < 25 ? v1::EHC_PLAN : send < 160 ? v1::SEN_SUPPORT : v1::SEND_NONE);
    pupil.set_free_school_meals(rng.Permille(220));
    pupil.set_pupil_premium(pupil.free_school_meals() ? rng.Permille(950) : rng.Permille(50));
    pupil.set_eal(rng.Permille(200));
    pupil.set_child_in_need(rng.Permille(30));
    pupil.set_child_protection_plan(rng.Permille(10));
    pupil.set_looked_after(rng.Permille(10));
    p.on_roll_from = plan.days.front();
    plan.pupils.push_back(std::move(p));
  }
  // The two joiners: one in Autumn 1, one after October half term.
  plan.pupils[static_cast<size_t>(options.pupils)].on_roll_from =
      plan.days[std::min<size_t>(12, n - 1)];
  plan.pupils[static_cast<size_t>(options.pupils + 1)].on_roll_from =
      plan.days[std::min(plan.autumn1_days + 7, n - 1)];

  // Attendance profiles by quota over a shuffled roll, so the mix is close
  // to the target even for a small school: 1.5% severe, 18% persistent
  // (10-50% absence), 16% between 95% and 90%, the rest above 95%.
  std::vector<size_t> order(plan.pupils.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  rng.Shuffle(order);
  const size_t severe = std::max<size_t>(1, (order.size() * 15 + 500) / 1000);
  const size_t persistent = (order.size() * 180 + 500) / 1000;
  const size_t mid = (order.size() * 160 + 500) / 1000;
  for (size_t k = 0; k < order.size(); ++k) {
    plan.pupils[order[k]].profile = k < severe                      ? Profile::kSevere
                                    : k < severe + persistent       ? Profile::kPersistent
                                    : k < severe + persistent + mid ? Profile::kMid
                                                                    : Profile::kGood;
  }

  // The leaver: a pupil above 95%, off roll after the third Friday of Autumn 2.
  plan.leaver = order.back();
  for (size_t k = order.size(); k-- > 0;) {
    if (order[k] < static_cast<size_t>(options.pupils) &&
        plan.pupils[order[k]].profile == Profile::kGood) {
      plan.leaver = order[k];
      break;
    }
  }
  const size_t leave_index = std::min(plan.autumn1_days + 14, n - 1);
  plan.pupils[plan.leaver].last_day = plan.days[leave_index];

  // Register plans.
  for (DemoPupil& p : plan.pupils) {
    p.plan.resize(n);
    int possible = 0;
    for (size_t i = 0; i < n; ++i) {
      const Day d = plan.days[i];
      const bool on_roll = d >= p.on_roll_from && (!p.last_day || d <= *p.last_day);
      for (int s = 0; s < 2; ++s) {
        const v1::Session session = s == 0 ? v1::AM : v1::PM;
        Entry& e = p.plan[i][static_cast<size_t>(s)];
        if (!on_roll) continue;
        if (calendar.IsClosed(d, session, p.pupil.year_group())) {
          e.code = "#";
          continue;
        }
        e.code = s == 0 ? "/" : "\\";
        ++possible;
      }
    }
    int rate = 0;  // permille of possible sessions absent
    switch (p.profile) {
      case Profile::kGood:
        rate = rng.Permille(400) ? rng.Between(0, 10) : rng.Between(10, 40);
        break;
      case Profile::kMid:
        rate = rng.Between(55, 90);
        break;
      case Profile::kPersistent:
        rate = rng.Between(115, 240);
        break;
      case Profile::kSevere:
        rate = rng.Between(530, 720);
        break;
    }
    PlanAbsences(p, (possible * rate + 500) / 1000, plan.days, plan.autumn1_days, rng);
    // Lates: before the register closed (L), mostly in the morning.
    const int late_permille =
        p.profile == Profile::kGood ? rng.Between(0, 30) : rng.Between(20, 90);
    for (size_t i = 0; i < n; ++i) {
      if (p.plan[i][0].code == "/" && rng.Permille(late_permille)) {
        p.plan[i][0] = {"L", static_cast<std::uint32_t>(rng.Between(2, 28)), ""};
      }
      if (p.plan[i][1].code == "\\" && rng.Permille(late_permille / 6)) {
        p.plan[i][1] = {"L", static_cast<std::uint32_t>(rng.Between(2, 15)),
                        "Late back from lunch"};
      }
    }
  }

  // Letters: after October half term to every pupil at or below 90% in
  // Autumn 1; a second one four weeks later to those still at or below 90%.
  const size_t first_check = plan.autumn1_days;
  const size_t second_check = std::min(plan.autumn1_days + 20, n - 1);
  for (size_t i = 0; i < plan.pupils.size(); ++i) {
    const DemoPupil& p = plan.pupils[i];
    const Tally a1 = Count(p, first_check);
    if (first_check < n && a1.possible >= 20 && 10 * a1.absent >= a1.possible) {
      plan.letters.push_back({i, "letter_1", v1::POST, first_check,
                              absl::StrFormat("Autumn 1 attendance %d/%d sessions",
                                              a1.possible - a1.absent, a1.possible)});
      const Tally later = Count(p, second_check);
      if (10 * later.absent >= later.possible &&
          (!p.last_day || plan.days[second_check] <= *p.last_day)) {
        plan.letters.push_back({i, "letter_2", v1::EMAIL, second_check,
                                absl::StrFormat("No improvement: %d/%d sessions",
                                                later.possible - later.absent, later.possible)});
      }
    }
  }
  return plan;
}

v1::SchoolCalendarSet DemoCalendar(int academic_year) {
  const int y = academic_year;
  v1::SchoolCalendarSet cal;
  cal.set_academic_year(y);

  // Autumn: from the first weekday of September to the Friday on or before
  // 20 December, with a week's break in the last week of October.
  const Day a1_first = WeekdayOnOrAfter(Date(y, 9, 1));
  const Day october_break = MondayOnOrBefore(Date(y, 10, 28));
  const Day a2_last = FridayOnOrBefore(Date(y, 12, 20));
  // Spring: from the first weekday on or after 5 January, a week off in
  // mid-February, to the Friday before the Easter fortnight.
  const Day s1_first = WeekdayOnOrAfter(Date(y + 1, 1, 5));
  const Day february_break = MondayOnOrBefore(Date(y + 1, 2, 18));
  const Day easter = EasterSunday(y + 1);
  const Day easter_break = easter - 6;  // Monday of Holy Week
  // Summer: from the Monday after Easter week, a week off at the late May
  // bank holiday, to the day that makes 190 school days.
  const Day u1_first = easter_break + 14;
  const Day may_break = MondayOnOrBefore(Date(y + 1, 5, 31));
  const Day early_may_bank_holiday = MondayOnOrAfter(Date(y + 1, 5, 1));
  const Day u2_first = may_break + 7;

  std::vector<std::pair<Day, Day>> before_summer2 = {{a1_first, october_break - 3},
                                                     {october_break + 7, a2_last},
                                                     {s1_first, february_break - 3},
                                                     {february_break + 7, easter_break - 3},
                                                     {u1_first, may_break - 3}};
  // INSET: the first two days of the year, the first day of spring (unless
  // the year needs it to reach 190 days), the day after the last teaching
  // day of the summer.
  const Day inset1 = a1_first;
  const Day inset2 = WeekdayOnOrAfter(a1_first + 1);
  const Day inset3 = s1_first;
  int school_days = 0;
  for (auto [first, last] : before_summer2) {
    for (Day d = first; d <= last; ++d) school_days += IsWeekday(d) ? 1 : 0;
  }
  school_days -= 3;  // INSET
  if (early_may_bank_holiday >= u1_first && early_may_bank_holiday < may_break) --school_days;
  Day u2_last = u2_first;
  int summer2 = IsWeekday(u2_first) ? 1 : 0;
  while (school_days + summer2 < 190 && u2_last < Date(y + 1, 7, 23)) {
    ++u2_last;
    summer2 += IsWeekday(u2_last) ? 1 : 0;
  }
  // A year short of 190 days by 23 July teaches on the spring INSET day
  // instead, then runs on.
  const bool spring_inset = school_days + summer2 >= 190;
  if (!spring_inset) ++school_days;
  while (school_days + summer2 < 190) {
    ++u2_last;
    summer2 += IsWeekday(u2_last) ? 1 : 0;
  }
  const Day inset4 = WeekdayOnOrAfter(u2_last + 1);
  u2_last = inset4;

  v1::Term* autumn = cal.add_terms();
  autumn->set_name("Autumn");
  *autumn->add_half_terms() = MakeHalf("Autumn 1", a1_first, october_break - 3);
  *autumn->add_half_terms() = MakeHalf("Autumn 2", october_break + 7, a2_last);
  v1::Term* spring = cal.add_terms();
  spring->set_name("Spring");
  *spring->add_half_terms() = MakeHalf("Spring 1", s1_first, february_break - 3);
  *spring->add_half_terms() = MakeHalf("Spring 2", february_break + 7, easter_break - 3);
  v1::Term* summer = cal.add_terms();
  summer->set_name("Summer");
  *summer->add_half_terms() = MakeHalf("Summer 1", u1_first, may_break - 3);
  *summer->add_half_terms() = MakeHalf("Summer 2", u2_first, u2_last);

  AddClosure(cal, inset1, v1::SESSION_UNSPECIFIED, {}, "INSET day");
  AddClosure(cal, inset2, v1::SESSION_UNSPECIFIED, {}, "INSET day");
  // Reception starts two days after the rest of the school.
  const Day first_teaching = WeekdayOnOrAfter(inset2 + 1);
  const Day second_teaching = WeekdayOnOrAfter(first_teaching + 1);
  AddClosure(cal, first_teaching, v1::SESSION_UNSPECIFIED, {0},
             "Reception staggered start: home visits");
  AddClosure(cal, second_teaching, v1::SESSION_UNSPECIFIED, {0},
             "Reception staggered start: home visits");
  AddClosure(cal, a2_last, v1::PM, {}, "Early finish for Christmas");
  if (spring_inset) AddClosure(cal, inset3, v1::SESSION_UNSPECIFIED, {}, "INSET day");
  if (early_may_bank_holiday >= u1_first && early_may_bank_holiday < may_break) {
    AddClosure(cal, early_may_bank_holiday, v1::SESSION_UNSPECIFIED, {}, "Early May bank holiday");
  }
  AddClosure(cal, inset4, v1::SESSION_UNSPECIFIED, {}, "INSET day");
  return cal;
}

}  // namespace attendance::demo
