#include "ledger/calendar.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ledger/text_checks.h"

namespace attendance::ledger {

void SchoolCalendar::Set(const v1::SchoolCalendarSet& calendar) {
  Year year;
  for (const v1::Term& term : calendar.terms()) {
    for (const v1::HalfTerm& half : term.half_terms()) {
      year.half_terms.push_back({calendar.academic_year(), term.name(), half.name(),
                                 ParseDate(half.first_day()).value_or(0),
                                 ParseDate(half.last_day()).value_or(-1)});
    }
  }
  std::sort(year.half_terms.begin(), year.half_terms.end(),
            [](const HalfTermSpan& a, const HalfTermSpan& b) { return a.first < b.first; });
  for (const v1::Closure& closure : calendar.closures()) {
    auto day = ParseDate(closure.date());
    if (!day) continue;
    year.closures.emplace(
        *day, ClosureSpan{closure.session(),
                          {closure.year_groups().begin(), closure.year_groups().end()}});
  }
  years_[calendar.academic_year()] = std::move(year);
}

const SchoolCalendar::Year* SchoolCalendar::YearOf(Day day) const {
  auto it = years_.find(AcademicYearOf(day));
  return it == years_.end() ? nullptr : &it->second;
}

const HalfTermSpan* SchoolCalendar::HalfTermOf(Day day) const {
  const Year* year = YearOf(day);
  if (year == nullptr) return nullptr;
  for (const HalfTermSpan& half : year->half_terms) {
    if (day >= half.first && day <= half.last) return &half;
  }
  return nullptr;
}

bool SchoolCalendar::IsTermDay(Day day) const {
  return Weekday(day) < 5 && HalfTermOf(day) != nullptr;
}

bool SchoolCalendar::IsSchoolDay(Day day) const {
  if (!IsTermDay(day)) return false;
  const Year* year = YearOf(day);
  auto [begin, end] = year->closures.equal_range(day);
  for (auto it = begin; it != end; ++it) {
    if (it->second.session == v1::SESSION_UNSPECIFIED && it->second.year_groups.empty()) {
      return false;
    }
  }
  return true;
}

bool SchoolCalendar::IsClosed(Day day, v1::Session session, int year_group) const {
  const Year* year = YearOf(day);
  if (year == nullptr) return false;
  auto [begin, end] = year->closures.equal_range(day);
  for (auto it = begin; it != end; ++it) {
    const ClosureSpan& c = it->second;
    if (c.session != v1::SESSION_UNSPECIFIED && c.session != session) continue;
    if (c.year_groups.empty() ||
        std::find(c.year_groups.begin(), c.year_groups.end(), year_group) != c.year_groups.end()) {
      return true;
    }
  }
  return false;
}

std::vector<HalfTermSpan> SchoolCalendar::HalfTerms(int academic_year) const {
  auto it = years_.find(academic_year);
  return it == years_.end() ? std::vector<HalfTermSpan>{} : it->second.half_terms;
}

namespace {

constexpr int kMaxTerms = 6;
constexpr int kMaxHalfTermsPerTerm = 6;
constexpr int kMaxClosures = 400;
// Year groups run from -1 (nursery) to 14: 16 values, each at most once.
constexpr int kMaxClosureYearGroups = 16;

}  // namespace

absl::Status ValidateCalendar(const v1::SchoolCalendarSet& calendar, absl::string_view field) {
  const int year = calendar.academic_year();
  if (year < 1990 || year > 2200) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".academic_year: ", year, " is not a plausible academic year"));
  }
  const Day year_first = AcademicYearStart(year);
  const Day year_last = AcademicYearStart(year + 1) - 1;
  if (calendar.terms().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".terms: a calendar needs terms"));
  }
  if (calendar.terms_size() > kMaxTerms) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".terms: ", calendar.terms_size(), " terms is more than ", kMaxTerms));
  }
  if (calendar.closures_size() > kMaxClosures) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".closures: ", calendar.closures_size(),
                                                   " closures is more than ", kMaxClosures));
  }
  std::vector<std::pair<Day, Day>> spans;
  for (int t = 0; t < calendar.terms_size(); ++t) {
    const v1::Term& term = calendar.terms(t);
    const std::string term_field = absl::StrCat(field, ".terms[", t, "]");
    if (auto s = CheckText(term.name(), term_field + ".name", true, kMaxNameLength); !s.ok()) {
      return s;
    }
    if (term.half_terms().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(term_field, ".half_terms: term ",
                                                     Quoted(term.name()), " has no half-terms"));
    }
    if (term.half_terms_size() > kMaxHalfTermsPerTerm) {
      return absl::InvalidArgumentError(
          absl::StrCat(term_field, ".half_terms: ", term.half_terms_size(),
                       " half-terms is more than ", kMaxHalfTermsPerTerm));
    }
    for (int h = 0; h < term.half_terms_size(); ++h) {
      const v1::HalfTerm& half = term.half_terms(h);
      const std::string half_field = absl::StrCat(term_field, ".half_terms[", h, "]");
      if (auto s = CheckText(half.name(), half_field + ".name", false, kMaxNameLength); !s.ok()) {
        return s;
      }
      auto first = ParseDate(half.first_day());
      auto last = ParseDate(half.last_day());
      if (!first) {
        return absl::InvalidArgumentError(
            absl::StrCat(half_field, ".first_day: ", Quoted(half.first_day()), " is not a date"));
      }
      if (!last) {
        return absl::InvalidArgumentError(
            absl::StrCat(half_field, ".last_day: ", Quoted(half.last_day()), " is not a date"));
      }
      if (*last < *first) {
        return absl::InvalidArgumentError(absl::StrCat(half_field, ": last_day ", half.last_day(),
                                                       " is before first_day ", half.first_day()));
      }
      if (*first < year_first || *last > year_last) {
        return absl::InvalidArgumentError(
            absl::StrCat(half_field, ": ", half.first_day(), "..", half.last_day(),
                         " is outside academic year ", year, "-", (year + 1) % 100));
      }
      spans.emplace_back(*first, *last);
    }
  }
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].first <= spans[i - 1].second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".terms: half-terms overlap at ", FormatDate(spans[i].first)));
    }
  }
  for (int c = 0; c < calendar.closures_size(); ++c) {
    const v1::Closure& closure = calendar.closures(c);
    const std::string closure_field = absl::StrCat(field, ".closures[", c, "]");
    auto day = ParseDate(closure.date());
    if (!day) {
      return absl::InvalidArgumentError(
          absl::StrCat(closure_field, ".date: ", Quoted(closure.date()), " is not a date"));
    }
    bool inside = false;
    for (auto& [first, last] : spans) inside = inside || (*day >= first && *day <= last);
    if (!inside) {
      return absl::InvalidArgumentError(
          absl::StrCat(closure_field, ".date: ", closure.date(), " is not inside any half-term"));
    }
    if (closure.session() != v1::SESSION_UNSPECIFIED && closure.session() != v1::AM &&
        closure.session() != v1::PM) {
      return absl::InvalidArgumentError(
          absl::StrCat(closure_field, ".session: ", closure.session(), " is not AM or PM"));
    }
    if (closure.year_groups_size() > kMaxClosureYearGroups) {
      return absl::InvalidArgumentError(
          absl::StrCat(closure_field, ".year_groups: ", closure.year_groups_size(),
                       " year groups is more than ", kMaxClosureYearGroups));
    }
    for (int y = 0; y < closure.year_groups_size(); ++y) {
      const int group = closure.year_groups(y);
      if (group < -1 || group > 14) {
        return absl::InvalidArgumentError(absl::StrCat(closure_field, ".year_groups[", y,
                                                       "]: ", group, " is not between -1 and 14"));
      }
      for (int earlier = 0; earlier < y; ++earlier) {
        if (closure.year_groups(earlier) == group) {
          return absl::InvalidArgumentError(absl::StrCat(closure_field, ".year_groups[", y,
                                                         "]: ", group, " repeats [", earlier, "]"));
        }
      }
    }
    if (auto s = CheckText(closure.reason(), closure_field + ".reason", false); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace attendance::ledger
