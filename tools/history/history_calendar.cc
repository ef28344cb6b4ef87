// The school's calendar, year by year: six half-terms with England's usual
// breaks, 190 school days, INSET days and the closures schools have.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "history/history.h"
#include "ledger/calendar.h"

namespace attendance::history {
namespace {

using ledger::Day;
using ledger::FormatDate;

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

}  // namespace

v1::SchoolCalendarSet HistoryCalendar(int academic_year) {
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

}  // namespace attendance::history
