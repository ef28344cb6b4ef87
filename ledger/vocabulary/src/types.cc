#include "ledger/types.h"

#include <algorithm>
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

// The length of the well-formed UTF-8 sequence starting at text[i], or 0 if
// the byte there does not start one (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF).
std::size_t SequenceAt(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const unsigned char b0 = byte(0);
  if (b0 < 0x80) return 1;
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xbf;  // the range of the second byte
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    n = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3;
    if (b0 == 0xe0) lo = 0xa0;
    if (b0 == 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4;
    if (b0 == 0xf0) lo = 0x90;
    if (b0 == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  if (byte(1) < lo || byte(1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(k) < 0x80 || byte(k) > 0xbf) return 0;
  }
  return n;
}

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
  // By hand, not snprintf: explanations format thousands of dates per
  // worklist (a quarter of its instructions went to vfprintf).
  if (c.y < 0 || c.y > 9999) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", c.y, c.m, c.d);
    return buf;
  }
  std::string out(10, '-');
  const unsigned y = static_cast<unsigned>(c.y);
  out[0] = static_cast<char>('0' + y / 1000);
  out[1] = static_cast<char>('0' + y / 100 % 10);
  out[2] = static_cast<char>('0' + y / 10 % 10);
  out[3] = static_cast<char>('0' + y % 10);
  out[5] = static_cast<char>('0' + c.m / 10);
  out[6] = static_cast<char>('0' + c.m % 10);
  out[8] = static_cast<char>('0' + c.d / 10);
  out[9] = static_cast<char>('0' + c.d % 10);
  return out;
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

bool IsValidUtf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = SequenceAt(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::size_t Utf8Length(std::string_view text) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++chars)
    i += std::max<std::size_t>(1, SequenceAt(text, i));
  return chars;
}

std::string Printable(std::string_view text, std::size_t max_chars) {
  std::string out;
  out.reserve(std::min(text.size(), std::size_t{256}));
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size() && chars < max_chars; ++chars) {
    const std::size_t n = SequenceAt(text, i);
    const auto b = static_cast<unsigned char>(text[i]);
    if (n == 0 || b < 0x20 || b == 0x7f) {
      char escape[5];
      std::snprintf(escape, sizeof escape, "\\x%02x", b);
      out.append(escape);
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string Quoted(std::string_view value) {
  constexpr std::size_t kMaxChars = 80;
  std::string out = "\"";
  out.append(Printable(value, kMaxChars));
  if (Utf8Length(value) > kMaxChars) out.append("...");
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
