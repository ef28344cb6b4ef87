// The synthetic-history generator (tools/history): deterministic from its
// seed, loaded into a real Ledger (RocksDB in a temp dir) at its source
// times, and with England's shape as the project's own projections compute
// it from the loaded log.
#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "history/history.h"
#include "history/load_history.h"
#include "ledger/calendar.h"
#include "ledger/clock.h"
#include "ledger/codes.h"
#include "ledger/ledger.h"
#include "projections/attendance_queries.h"
#include "projections/attendance_state.h"
#include "support/temp_dir.h"

namespace attendance {
namespace {

using ledger::Day;
using ledger::ParseDate;

struct Loaded {
  std::unique_ptr<testing::TempDir> dir;
  std::unique_ptr<history::SourceClock> clock;
  std::unique_ptr<ledger::Ledger> ledger;
  history::LoadStats stats;
};

Loaded Load(const history::HistoryOptions& options) {
  Loaded l;
  l.dir = std::make_unique<testing::TempDir>();
  // After the history, so that every register it records has happened.
  l.clock = std::make_unique<history::SourceClock>(
      ledger::Clock::Fixed(static_cast<std::int64_t>(*ParseDate("2030-09-01")) * 86'400'000'000LL));
  ledger::LedgerOptions ledger_options;
  ledger_options.data_dir = l.dir->path();
  ledger_options.sync = false;  // durability is the ledger's tests' business
  ledger_options.clock = l.clock->Clock();
  auto opened = ledger::Ledger::Open(ledger_options);
  REQUIRE(opened.ok());
  l.ledger = std::move(*opened);
  auto stats = history::LoadHistory(*l.ledger, options, l.clock.get());
  INFO(stats.status().ToString());
  REQUIRE(stats.ok());
  l.stats = *stats;
  return l;
}

std::vector<v1::EventEnvelope> AllEvents(const ledger::Ledger& l) {
  std::vector<v1::EventEnvelope> events;
  REQUIRE(l.ForEachEvent(1, [&](const v1::EventEnvelope& e) {
             events.push_back(e);
             return true;
           }).ok());
  return events;
}

// The code every session ends with, from the log.
std::map<std::tuple<std::string, std::string, int>, std::string> FinalCodes(
    const ledger::Ledger& ledger) {
  std::map<std::tuple<std::string, std::string, int>, std::string> codes;
  for (const v1::EventEnvelope& e : AllEvents(ledger)) {
    if (e.has_mark_recorded()) {
      const auto& m = e.mark_recorded();
      codes[{m.pupil_id(), m.date(), m.session()}] = m.code();
    } else if (e.has_mark_amended()) {
      const auto& m = e.mark_amended();
      codes[{m.pupil_id(), m.date(), m.session()}] = m.amended_code();
    }
  }
  return codes;
}

int OpenNCodes(const ledger::Ledger& ledger) {
  int open = 0;
  for (const auto& [session, code] : FinalCodes(ledger)) open += code == "N" ? 1 : 0;
  return open;
}

history::HistoryOptions Small(std::uint64_t seed) {
  history::HistoryOptions options;
  options.school_id = "small";
  options.pupils = 60;
  options.first_academic_year = 2023;
  options.years = 2;
  options.seed = seed;
  return options;
}

TEST_CASE("the calendar has six half-terms and 190 school days", "[history]") {
  for (int year = 2024; year <= 2032; ++year) {
    CAPTURE(year);
    const v1::SchoolCalendarSet cal = history::HistoryCalendar(year);
    REQUIRE(ledger::ValidateCalendar(cal, "calendar").ok());
    ledger::SchoolCalendar calendar;
    calendar.Set(cal);
    CHECK(calendar.HalfTerms(year).size() == 6);
    int school_days = 0;
    for (Day d = ledger::AcademicYearStart(year); d < ledger::AcademicYearStart(year + 1); ++d) {
      school_days += calendar.IsSchoolDay(d) ? 1 : 0;
    }
    CHECK(school_days == 190);
    CHECK(cal.closures_size() >= 5);
  }
  const v1::SchoolCalendarSet cal = history::HistoryCalendar(2025);
  CHECK(cal.terms(0).half_terms(0).first_day() == "2025-09-01");
  CHECK(cal.terms(0).half_terms(0).last_day() == "2025-10-24");  // October half term next
  CHECK(cal.terms(0).half_terms(1).first_day() == "2025-11-03");
  CHECK(cal.terms(1).half_terms(1).last_day() == "2026-03-27");  // Easter 2026 is 5 April
}

TEST_CASE("the same seed gives the same history and another seed another", "[history]") {
  const auto a = history::HistoryDigest(Small(7));
  const auto b = history::HistoryDigest(Small(7));
  const auto c = history::HistoryDigest(Small(8));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(c.ok());
  CHECK(*a == *b);
  CHECK(*a != *c);
  history::HistoryOptions later = Small(7);
  later.until = *ParseDate("2024-03-01");
  const auto partial = history::HistoryDigest(later);
  REQUIRE(partial.ok());
  CHECK(*partial != *a);
  history::HistoryOptions bad = Small(7);
  bad.pupils = 0;
  CHECK(history::HistoryDigest(bad).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a history loads at its source times and loading again writes nothing", "[history]") {
  history::HistoryOptions options = Small(3);
  options.until = *ParseDate("2024-11-22");  // into the second year
  Loaded l = Load(options);
  const ledger::Position after_first = l.ledger->LastPosition();
  CHECK(l.stats.marks > 0);
  CHECK(l.stats.amendments > 0);
  CHECK(l.stats.letters > 0);
  // Every mark was imported (after its last amendment) with the time it was
  // taken, on its own date by its class teacher, and every amendment after
  // its mark, by the office; the log itself is in time order.
  std::int64_t last_at = 0;
  std::map<std::tuple<std::string, std::string, int>, std::int64_t> taken;
  int out_of_order = 0, marks_not_on_their_day = 0, bad_amendments = 0, not_imported = 0;
  for (const v1::EventEnvelope& e : AllEvents(*l.ledger)) {
    out_of_order += e.recorded_at_us() < last_at ? 1 : 0;
    last_at = e.recorded_at_us();
    if (e.has_mark_recorded()) {
      const auto& m = e.mark_recorded();
      marks_not_on_their_day +=
          ledger::FormatDate(ledger::SchoolLocalDay(m.taken_at_us())) != m.date() ||
                  m.taken_at_us() > e.recorded_at_us() || m.taken_by().role() != "teacher"
              ? 1
              : 0;
      not_imported += m.imported_from().empty() ? 1 : 0;
      taken[{m.pupil_id(), m.date(), m.session()}] = m.taken_at_us();
    } else if (e.has_mark_amended()) {
      const auto& m = e.mark_amended();
      const bool ok = m.amended_at_us() > taken[{m.pupil_id(), m.date(), m.session()}] &&
                      m.amended_at_us() <= e.recorded_at_us() &&
                      m.amended_by().role() == "attendance_officer" && !m.reason().empty();
      bad_amendments += ok ? 0 : 1;
      not_imported += m.imported_from().empty() ? 1 : 0;
    }
  }
  CHECK(out_of_order == 0);
  CHECK(marks_not_on_their_day == 0);
  CHECK(bad_amendments == 0);
  CHECK(not_imported == 0);
  CHECK(last_at < static_cast<std::int64_t>(*ParseDate("2024-11-23")) * 86'400'000'000LL);
  // That day's registers are there as they stood, with the N codes not yet
  // explained (amended the week after).
  CHECK(OpenNCodes(*l.ledger) > 0);
  // Again, and then a few days more: only the days since are added.
  REQUIRE(history::LoadHistory(*l.ledger, options, l.clock.get()).ok());
  CHECK(l.ledger->LastPosition() == after_first);
  options.until = *ParseDate("2024-11-29");
  REQUIRE(history::LoadHistory(*l.ledger, options, l.clock.get()).ok());
  CHECK(l.ledger->LastPosition() > after_first);
  // The days cut on 22 November were caught up (their N codes amended
  // since): every session ends as in one load up to 29 November.
  Loaded whole = Load(options);
  const auto extended = FinalCodes(*l.ledger);
  const auto in_one = FinalCodes(*whole.ledger);
  CHECK(extended.size() == in_one.size());
  CHECK(extended == in_one);
  int caught_up = 0;
  for (const v1::EventEnvelope& e : AllEvents(*l.ledger)) {
    caught_up += e.has_mark_amended() && e.mark_amended().imported_from().empty() ? 1 : 0;
  }
  CHECK(caught_up > 0);  // through AmendMark, after the cut
}

TEST_CASE("a 2,000-pupil year has England's shape, by the projections", "[history][slow]") {
  history::HistoryOptions options;
  options.school_id = "big";
  options.pupils = 2000;
  options.first_academic_year = 2024;
  options.years = 1;
  options.seed = 1;
  Loaded l = Load(options);
  const std::vector<v1::EventEnvelope> events = AllEvents(*l.ledger);

  projections::AttendanceState state;
  for (const v1::EventEnvelope& e : events) state.Apply(e);
  // The whole of 2024-25, seen from the summer holidays: every pupil on roll
  // on any day of it, the year's leavers included.
  const Day as_of = *ParseDate("2025-08-31");
  v1::Window year;
  year.set_kind(v1::PREVIOUS_ACADEMIC_YEAR);
  year.set_years_back(1);
  v1::GetCohortAttendanceRequest cohort;
  cohort.set_school_id("big");
  *cohort.mutable_window() = year;
  cohort.set_as_of("2025-08-31");
  auto cohorts = projections::QueryCohorts(state, cohort, as_of);
  REQUIRE(cohorts.ok());
  const v1::CohortRow& school = cohorts->whole_school();
  INFO("pupils " << school.pupils() << " PA " << school.persistent_absence_rate() << "% SA "
                 << school.severe_absence_rate() << "%");
  // DfE, Pupil absence in schools in England 2023/24 (state-funded schools,
  // the full year): persistent absence 20.0%, severe absence 2.3%.
  CHECK(school.persistent_absence_rate() >= 16.0);
  CHECK(school.persistent_absence_rate() <= 24.0);
  CHECK(school.severe_absence_rate() >= 1.0);
  CHECK(school.severe_absence_rate() <= 2.5);

  // Most pupils at or above 95%.
  v1::ListPupilAttendanceRequest list;
  list.set_school_id("big");
  *list.mutable_window() = year;
  list.set_as_of("2025-08-31");
  list.set_min_percent(95.0);
  list.set_max_percent(100.0);
  list.set_page_size(1000);
  std::uint32_t at_or_above_95 = 0;
  for (;;) {
    auto page = projections::QueryPupilList(state, list, as_of);
    REQUIRE(page.ok());
    for (const v1::PupilRow& row : page->pupils()) {
      if (row.figures().possible_sessions() > 0) ++at_or_above_95;
    }
    if (page->next_page_token().empty()) break;
    list.set_page_token(page->next_page_token());
  }
  INFO("at or above 95%: " << at_or_above_95 << " of " << school.pupils());
  CHECK(2 * at_or_above_95 > school.pupils());

  // From the log itself: the final code of every session.
  std::map<std::tuple<std::string, std::string, int>, std::string> code;
  std::map<std::tuple<std::string, std::string, int>, Day> n_recorded;
  ledger::SchoolCalendar calendar;
  int n_codes = 0;
  int n_in_time = 0;
  int other_codes = 0;
  for (const v1::EventEnvelope& e : events) {
    if (e.has_school_calendar_set()) calendar.Set(e.school_calendar_set());
    if (e.has_mark_recorded()) {
      const auto& m = e.mark_recorded();
      code[{m.pupil_id(), m.date(), m.session()}] = m.code();
      if (m.code() == "N") {
        ++n_codes;
        n_recorded[{m.pupil_id(), m.date(), m.session()}] = *ParseDate(m.date());
      }
    } else if (e.has_mark_amended()) {
      const auto& m = e.mark_amended();
      code[{m.pupil_id(), m.date(), m.session()}] = m.amended_code();
      auto it = n_recorded.find({m.pupil_id(), m.date(), m.session()});
      if (m.original_code() != "N" || it == n_recorded.end()) continue;
      const std::string& to = m.amended_code();
      other_codes += to == "I" || to == "M" || to == "O" || to == "U" ? 0 : 1;
      // School days after the mark, up to the amendment's day.
      int school_days = 0;
      for (Day d = it->second + 1; d <= ledger::SchoolLocalDay(m.amended_at_us()); ++d) {
        school_days += calendar.IsSchoolDay(d) ? 1 : 0;
      }
      if (school_days <= 5) ++n_in_time;  // the school's n_code_deadline_school_days
      n_recorded.erase(it);
    }
  }
  INFO("N codes " << n_codes << ", amended in time " << n_in_time);
  CHECK(n_codes > 100);
  CHECK(other_codes == 0);
  CHECK(n_recorded.empty());  // every N was amended
  CHECK(n_in_time == n_codes);

  // Illness by season and absence by weekday, per possible session.
  struct Rate {
    int numerator = 0;
    int possible = 0;
    double Percent() const { return possible == 0 ? 0 : 100.0 * numerator / possible; }
  };
  Rate winter_illness, summer_illness, monday_friday, midweek;
  int unknown_codes = 0;
  for (const auto& [key, c] : code) {
    const Day day = *ParseDate(std::get<1>(key));
    const ledger::CodeInfo* info = ledger::LookupCode(c, day);
    unknown_codes += info == nullptr ? 1 : 0;
    if (info == nullptr || !info->possible()) continue;
    const int month = std::stoi(std::get<1>(key).substr(5, 2));
    Rate* season = month == 12 || month <= 2  ? &winter_illness
                   : month == 6 || month == 7 ? &summer_illness
                                              : nullptr;
    if (season != nullptr) {
      ++season->possible;
      season->numerator += c == "I" ? 1 : 0;
    }
    const int weekday = ledger::Weekday(day);
    Rate& by_day = weekday == 0 || weekday == 4 ? monday_friday : midweek;
    ++by_day.possible;
    by_day.numerator += info->attended() ? 0 : 1;
  }
  WARN("PA " << school.persistent_absence_rate() << "% SA " << school.severe_absence_rate()
             << "% at or above 95%: " << at_or_above_95 << " of " << school.pupils()
             << "; overall absence " << 100.0 - school.figures().attendance_percent()
             << "%; illness winter " << winter_illness.Percent() << "% summer "
             << summer_illness.Percent() << "%; absence Mon/Fri " << monday_friday.Percent()
             << "% midweek " << midweek.Percent() << "%; N codes " << n_codes);
  INFO("illness winter " << winter_illness.Percent() << "% summer " << summer_illness.Percent()
                         << "%; absence Mon/Fri " << monday_friday.Percent() << "% midweek "
                         << midweek.Percent() << "%");
  CHECK(unknown_codes == 0);
  CHECK(winter_illness.Percent() > 1.5 * summer_illness.Percent());
  CHECK(monday_friday.Percent() > 1.1 * midweek.Percent());
  CHECK(l.stats.letters > 0);
  CHECK(l.stats.actions > 0);
}

}  // namespace
}  // namespace attendance
