// The school's roll, classes and profiles, year by year.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "history/history_plan.h"

namespace attendance::history {
namespace {

using ledger::FormatDate;

Day Date(int y, int m, int d) {
  return *ledger::ParseDate(absl::StrFormat("%04d-%02d-%02d", y, m, d));
}

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
const std::vector<std::string> kTitles = {"Miss", "Mr", "Mrs", "Ms"};

std::string YearName(int yg) { return yg == 0 ? "Reception" : absl::StrCat("Year ", yg); }

bool OnRollDuring(const PupilRecord& r, Day first, Day last) {
  return r.on_roll_from <= last && (!r.last_day || *r.last_day >= first);
}

// Classes of at most 30 per year group, in pupil-id order.
void AssignClasses(const School& school, YearPlan& year) {
  std::map<int, std::vector<size_t>> by_group;  // year group -> PupilYear indexes
  for (size_t i = 0; i < year.pupils.size(); ++i) {
    by_group[school.records[year.pupils[i].record].pupil.year_group()].push_back(i);
  }
  for (const auto& [yg, members] : by_group) {
    const size_t classes = (members.size() + 29) / 30;
    for (size_t k = 0; k < members.size(); ++k) {
      const size_t class_no = k * classes / members.size();
      const std::string key =
          absl::StrCat("y", yg, std::string(1, static_cast<char>('a' + class_no)));
      year.pupils[members[k]].class_key = key;
      if (year.class_name.count(key)) continue;
      year.class_name[key] =
          school.secondary
              ? absl::StrCat(yg, std::string(1, static_cast<char>('A' + class_no)))
              : absl::StrCat(
                    YearName(yg), " ",
                    kClassTrees[(static_cast<size_t>(yg) * 3 + class_no) % kClassTrees.size()]);
      // A stable teacher per class key across years, from a hash of the key.
      std::uint64_t h = 1469598103934665603ULL;
      for (char c : key) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
      year.class_teacher[key] = absl::StrCat(kTitles[h % kTitles.size()], " ",
                                             std::string(1, static_cast<char>('A' + (h >> 8) % 26)),
                                             ". ", kFamilyNames[(h >> 16) % kFamilyNames.size()]);
    }
  }
}

// Profiles by quota over the year's roll, ranked by each pupil's lasting
// tendency plus this year's luck: 1.8% severe, 18.5% persistent (10-50%
// absence), 18% between 90% and 95%, the rest above 95%.
void AssignProfiles(const School& school, YearPlan& year, Random& rng) {
  std::vector<std::pair<int, size_t>> ranked;
  for (size_t i = 0; i < year.pupils.size(); ++i) {
    const int score = school.records[year.pupils[i].record].latent * 7 + rng.Between(0, 999) * 3;
    ranked.push_back({-score, i});
  }
  std::sort(ranked.begin(), ranked.end());
  const size_t n = ranked.size();
  const size_t severe = (n * 18 + 500) / 1000;
  const size_t persistent = (n * 185 + 500) / 1000;
  const size_t mid = (n * 180 + 500) / 1000;
  for (size_t k = 0; k < n; ++k) {
    year.pupils[ranked[k].second].profile = k < severe                      ? Profile::kSevere
                                            : k < severe + persistent       ? Profile::kPersistent
                                            : k < severe + persistent + mid ? Profile::kMid
                                                                            : Profile::kGood;
  }
}

}  // namespace

std::string SessionName(v1::Session s) { return s == v1::AM ? "AM" : "PM"; }

PupilRecord NewPupil(School& school, int year_group, int academic_year, Random& rng) {
  PupilRecord r;
  v1::Pupil& pupil = r.pupil;
  pupil.set_pupil_id(absl::StrFormat("P%04d", school.next_pupil_number++));
  const bool female = rng.Permille(490);
  pupil.set_sex(female ? v1::FEMALE : v1::MALE);
  pupil.set_given_name(rng.Pick(female ? kGirlNames : kBoyNames));
  pupil.set_family_name(rng.Pick(kFamilyNames));
  // Born between 1 Sep and 31 Aug of the cohort's year.
  const Day born_from = Date(academic_year - 5 - year_group, 9, 1);
  pupil.set_date_of_birth(FormatDate(born_from + rng.Between(0, 364)));
  pupil.set_year_group(year_group);
  // Roughly the national mix (DfE school census).
  const int send = rng.Between(0, 999);
  pupil.set_send(send < 25 ? v1::EHC_PLAN : send < 160 ? v1::SEN_SUPPORT : v1::SEND_NONE);
  pupil.set_free_school_meals(rng.Permille(240));
  pupil.set_pupil_premium(pupil.free_school_meals() ? rng.Permille(950) : rng.Permille(50));
  pupil.set_eal(rng.Permille(200));
  pupil.set_child_in_need(rng.Permille(30));
  pupil.set_child_protection_plan(rng.Permille(10));
  pupil.set_looked_after(rng.Permille(10));
  // Disadvantage and SEND go with more absence, as nationally.
  r.latent = rng.Between(0, 999);
  if (pupil.free_school_meals()) r.latent = std::min(999, r.latent + 150);
  if (pupil.send() != v1::SEND_NONE) r.latent = std::min(999, r.latent + 100);
  return r;
}

YearPlan PlanYear(School& school, int academic_year, Random& rng) {
  YearPlan year;
  year.academic_year = academic_year;
  year.calendar_set = HistoryCalendar(academic_year);
  year.calendar.Set(year.calendar_set);
  const Day first = *ledger::ParseDate(year.calendar_set.terms(0).half_terms(0).first_day());
  const Day last = *ledger::ParseDate(year.calendar_set.terms(2).half_terms(1).last_day());
  for (Day d = first; d <= last; ++d) {
    if (year.calendar.IsTermDay(d)) year.days.push_back(d);
  }
  for (const v1::Term& term : year.calendar_set.terms()) {
    for (const v1::HalfTerm& half : term.half_terms()) {
      const Day end = *ledger::ParseDate(half.last_day());
      size_t index = 0;
      while (index + 1 < year.days.size() && year.days[index + 1] <= end) ++index;
      year.half_ends.push_back(index);
    }
  }
  const size_t n = year.days.size();
  const int groups = static_cast<int>(school.year_groups.size());
  const int top = school.year_groups.back();

  if (school.records.empty()) {
    for (int i = 0; i < school.options.pupils; ++i) {
      const int yg = school.year_groups[static_cast<size_t>(i * groups / school.options.pupils)];
      PupilRecord r = NewPupil(school, yg, academic_year, rng);
      r.on_roll_from = first;
      year.intake.push_back(school.records.size());
      school.records.push_back(std::move(r));
    }
  } else {
    for (size_t i = 0; i < school.records.size(); ++i) {
      PupilRecord& r = school.records[i];
      if (r.last_day && *r.last_day < first) continue;
      r.pupil.set_year_group(r.pupil.year_group() + 1);
      year.promoted.push_back(i);
    }
    const int intake = std::max(1, (school.options.pupils + groups / 2) / groups);
    for (int i = 0; i < intake; ++i) {
      PupilRecord r = NewPupil(school, school.year_groups.front(), academic_year, rng);
      r.on_roll_from = first;
      year.intake.push_back(school.records.size());
      school.records.push_back(std::move(r));
    }
  }
  // Mobility: joiners (4% a year) and leavers (3%) during the year, on
  // school days away from its edges.
  const size_t existing = school.records.size();
  const int joiners = std::max(1, (school.options.pupils * 40 + 500) / 1000);
  for (int i = 0; i < joiners && n > 40; ++i) {
    const int yg = school.year_groups[static_cast<size_t>(rng.Between(0, groups - 1))];
    PupilRecord r = NewPupil(school, yg, academic_year, rng);
    r.on_roll_from = year.days[static_cast<size_t>(rng.Between(10, static_cast<int>(n) - 30))];
    school.records.push_back(std::move(r));
  }
  const int leavers = std::max(1, (school.options.pupils * 30 + 500) / 1000);
  for (int i = 0, tries = 0; i < leavers && n > 40 && tries < 1000; ++tries) {
    const size_t k = static_cast<size_t>(rng.Between(1, static_cast<int>(existing) - 1));
    PupilRecord& r = school.records[k];
    // P0001 stays: the README's examples use it.
    if (r.pupil.pupil_id() == "P0001" || r.last_day || r.on_roll_from > first) continue;
    r.last_day = year.days[static_cast<size_t>(rng.Between(15, static_cast<int>(n) - 20))];
    ++i;
  }
  // The top year group leaves at the end of the year.
  for (PupilRecord& r : school.records) {
    if (r.pupil.year_group() == top && !r.last_day && r.on_roll_from <= last) r.last_day = last;
  }

  for (size_t i = 0; i < school.records.size(); ++i) {
    if (!OnRollDuring(school.records[i], first, last)) continue;
    PupilYear p;
    p.record = i;
    year.pupils.push_back(std::move(p));
  }
  AssignClasses(school, year);
  for (PupilYear& p : year.pupils) {
    school.records[p.record].pupil.set_class_name(year.class_name[p.class_key]);
  }
  AssignProfiles(school, year, rng);
  for (PupilYear& p : year.pupils) {
    const PupilRecord& r = school.records[p.record];
    p.entries.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const Day d = year.days[i];
      if (d < r.on_roll_from || (r.last_day && d > *r.last_day)) continue;
      for (int s = 0; s < 2; ++s) {
        const v1::Session session = s == 0 ? v1::AM : v1::PM;
        Entry& e = p.entries[i][static_cast<size_t>(s)];
        const char* code = year.calendar.IsClosed(d, session, r.pupil.year_group()) ? "#"
                           : s == 0                                                 ? "/"
                                                                                    : "\\";
        e.code.push_back(*code);  // (assign trips GCC 12's -Wrestrict false positive)
      }
    }
    PlanAttendance(year, p, rng);
    PlanEscalation(year, p, rng);
    PlanTriggerAnswers(year, p, rng);
  }
  return year;
}

}  // namespace attendance::history
