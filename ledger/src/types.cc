#include "ledger/types.h"

#include <cstdio>

namespace attendance::ledger {
namespace {

// Howard Hinnant's days_from_civil / civil_from_days.
Day DaysFromCivil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int>(doe) - 719468;
}

struct Civil {
  int y;
  unsigned m, d;
};

Civil CivilFromDays(Day z) {
  z += 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int y = static_cast<int>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

bool Digits(std::string_view s, int& out) {
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return !s.empty();
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

std::optional<Day> ParseDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int y, m, d;
  if (!Digits(text.substr(0, 4), y) || !Digits(text.substr(5, 2), m) ||
      !Digits(text.substr(8, 2), d)) {
    return std::nullopt;
  }
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1900 || m < 1 || m > 12 || d < 1) return std::nullopt;
  const int max_day = kDays[m - 1] + (m == 2 && IsLeap(y) ? 1 : 0);
  if (d > max_day) return std::nullopt;
  return DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

std::string FormatDate(Day day) {
  const Civil c = CivilFromDays(day);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", c.y, c.m, c.d);
  return buf;
}

Day DayFromCivil(int year, unsigned month, unsigned day_of_month) {
  return DaysFromCivil(year, month, day_of_month);
}

int CalendarYearOf(Day day) { return CivilFromDays(day).y; }

int Weekday(Day day) {
  // 1970-01-01 was a Thursday (3 when Monday = 0).
  const int w = (day + 3) % 7;
  return w < 0 ? w + 7 : w;
}

int AcademicYearOf(Day day) {
  const Civil c = CivilFromDays(day);
  return c.m >= 8 ? c.y : c.y - 1;
}

Day AcademicYearStart(int academic_year) { return DaysFromCivil(academic_year, 8, 1); }

std::string Quoted(std::string_view value) {
  constexpr std::size_t kMax = 80;
  std::string out = "\"";
  out.append(value.substr(0, kMax));
  if (value.size() > kMax) out.append("...");
  out.push_back('"');
  return out;
}

std::optional<int> ParseTimeOfDay(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  int h, m;
  if (!Digits(text.substr(0, 2), h) || !Digits(text.substr(3, 2), m)) return std::nullopt;
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

}  // namespace attendance::ledger
