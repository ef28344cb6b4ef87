#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace attendance::ledger {

// Global position of an event in the log: gapless, from 1. 0 = "none".
using Position = std::uint64_t;
// Version of an event within its stream (a pupil's, or a school's): from 1.
using StreamVersion = std::uint64_t;

// Days since 1970-01-01 (a civil date without a time zone).
using Day = std::int32_t;

// Who is making a request, as the transport authenticated them.
struct Principal {
  std::string name;
  std::string role;
  // Set by the transport from the caller's role (services/access.h). The
  // defaults suit in-process callers (tests, the demo loader).
  // Only an admin may create a school (its first SetSchoolSettings).
  bool may_create_schools = true;
  // A register-taker records marks for today's open registers only.
  bool open_registers_only = false;
};

// "YYYY-MM-DD" -> Day; nullopt if malformed or not a real calendar date.
std::optional<Day> ParseDate(std::string_view text);
std::string FormatDate(Day day);
// The day of a civil date (no validation: month 1..12, day 1..31).
Day DayFromCivil(int year, unsigned month, unsigned day_of_month);
// The calendar year a day falls in.
int CalendarYearOf(Day day);
// 0 = Monday ... 6 = Sunday.
int Weekday(Day day);
// The academic year (1 Aug - 31 Jul) a day falls in, named by its first
// calendar year: 2025-09-08 -> 2025.
int AcademicYearOf(Day day);
Day AcademicYearStart(int academic_year);
// A client's value for an error message: in double quotes, cut to 80
// characters (with "...") so that a huge field cannot inflate the reply or
// the log, never inside a multi-byte character, and written by Printable so
// that the message is valid UTF-8 whatever the client sent.
std::string Quoted(std::string_view value);

// Whether `text` is well-formed UTF-8 (shortest forms, no surrogates, at most
// U+10FFFF).
bool IsValidUtf8(std::string_view text);
// Characters (code points) in `text`, the unit of every length limit; a
// byte that is not part of well-formed UTF-8 counts as one character.
std::size_t Utf8Length(std::string_view text);
// `text` with each byte that is not well-formed UTF-8, and each control
// character, written as \xNN: always valid UTF-8, safe in a status message
// and a log line. Stops after `max_chars` characters.
std::string Printable(std::string_view text, std::size_t max_chars = std::string_view::npos);

// "HH:MM" -> minutes after midnight; nullopt if malformed.
std::optional<int> ParseTimeOfDay(std::string_view text);

}  // namespace attendance::ledger
