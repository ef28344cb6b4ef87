// The demo school, loaded into a real Ledger in a temp dir: it validates, it
// has the attendance mix it promises, and loading it again is a no-op.
#include "demo/demo_school.h"

#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "ledger/calendar.h"
#include "ledger/codes.h"
#include "ledger/ledger.h"
#include "support/temp_dir.h"

namespace attendance {
namespace {

using ledger::Day;
using ledger::ParseDate;

std::unique_ptr<ledger::Ledger> OpenLedger(const std::string& dir) {
  ledger::LedgerOptions options;
  options.data_dir = dir;
  options.sync = false;  // a test of another module: durability is not the point
  // After the demo's autumn term 2025, so that every register it loads has
  // happened, whatever the real date.
  options.clock =
      ledger::Clock::Fixed(static_cast<std::int64_t>(*ParseDate("2026-01-05")) * 86'400'000'000LL);
  auto opened = ledger::Ledger::Open(options);
  REQUIRE(opened.ok());
  return std::move(*opened);
}

std::vector<v1::EventEnvelope> AllEvents(const ledger::Ledger& l) {
  std::vector<v1::EventEnvelope> events;
  REQUIRE(l.ForEachEvent(1, [&](const v1::EventEnvelope& e) {
             events.push_back(e);
             return true;
           }).ok());
  return events;
}

struct Figures {
  int possible = 0;
  int absent = 0;
};

// Per-pupil figures from the log, amendments applied (domain.md §3).
std::map<std::string, Figures> PupilFigures(const std::vector<v1::EventEnvelope>& events) {
  std::map<std::tuple<std::string, std::string, int>, std::string> code;
  for (const auto& e : events) {
    if (e.has_mark_recorded()) {
      const auto& m = e.mark_recorded();
      code[{m.pupil_id(), m.date(), m.session()}] = m.code();
    } else if (e.has_mark_amended()) {
      const auto& m = e.mark_amended();
      code[{m.pupil_id(), m.date(), m.session()}] = m.amended_code();
    }
  }
  std::map<std::string, Figures> figures;
  for (const auto& [key, c] : code) {
    const ledger::CodeInfo* info = ledger::LookupCode(c, *ParseDate(std::get<1>(key)));
    REQUIRE(info != nullptr);
    if (!info->possible()) continue;
    Figures& f = figures[std::get<0>(key)];
    ++f.possible;
    if (!info->attended()) ++f.absent;
  }
  return figures;
}

TEST_CASE("the demo calendar has six half-terms and 190 school days", "[demo]") {
  for (int year = 2024; year <= 2032; ++year) {
    CAPTURE(year);
    const v1::SchoolCalendarSet cal = demo::DemoCalendar(year);
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
  const v1::SchoolCalendarSet cal = demo::DemoCalendar(2025);
  CHECK(cal.terms(0).half_terms(0).first_day() == "2025-09-01");
  CHECK(cal.terms(0).half_terms(0).last_day() == "2025-10-24");  // October half term next
  CHECK(cal.terms(0).half_terms(1).first_day() == "2025-11-03");
  CHECK(cal.terms(1).half_terms(1).last_day() == "2026-03-27");  // Easter 2026 is 5 April
}

TEST_CASE("the demo school loads through the ledger's commands", "[demo][slow]") {
  testing::TempDir dir;
  auto l = OpenLedger(dir.path());
  demo::DemoOptions options;
  REQUIRE(demo::LoadDemo(*l, options).ok());
  const std::vector<v1::EventEnvelope> events = AllEvents(*l);

  std::map<std::string, int> kinds;
  for (const auto& e : events) {
    CHECK(e.school_id() == options.school_id);
    CHECK(e.request_id().rfind("demo-", 0) == 0);
    switch (e.payload_case()) {
      case v1::EventEnvelope::kMarkRecorded:
        ++kinds["mark"];
        break;
      case v1::EventEnvelope::kMarkAmended:
        ++kinds["amend"];
        CHECK(e.mark_amended().original_code() == "N");
        CHECK(e.mark_amended().amended_by().name() == "Mrs A. Office");
        CHECK(e.mark_amended().amended_by().role() == "attendance_officer");
        break;
      case v1::EventEnvelope::kLetterSent:
        ++kinds["letter"];
        break;
      case v1::EventEnvelope::kPupilEnrolled:
        ++kinds["enrol"];
        break;
      case v1::EventEnvelope::kPupilLeftRoll:
        ++kinds["leave"];
        break;
      case v1::EventEnvelope::kSchoolCalendarSet:
        ++kinds["calendar"];
        break;
      case v1::EventEnvelope::kSchoolSettingsSet:
        ++kinds["settings"];
        break;
      case v1::EventEnvelope::kEscalationPolicySet:
        ++kinds["policy"];
        break;
      default:
        ++kinds["other"];
        break;
    }
  }
  CHECK(kinds["settings"] == 1);
  CHECK(kinds["calendar"] == 1);
  CHECK(kinds["policy"] == 1);
  CHECK(kinds["enrol"] == options.pupils + 2);
  CHECK(kinds["leave"] == 1);
  CHECK(kinds["amend"] >= 20);
  CHECK(kinds["letter"] >= 5);
  CHECK(kinds["other"] == 0);
  // 75 term days of autumn, two sessions, about 122 pupils.
  CHECK(kinds["mark"] > 15000);
  CHECK(kinds["mark"] < 20000);

  const auto figures = PupilFigures(events);
  int above_95 = 0, persistent = 0, severe = 0;
  for (const auto& [pupil, f] : figures) {
    if (20 * f.absent < f.possible) ++above_95;
    if (10 * f.absent >= f.possible) ++persistent;
    if (2 * f.absent >= f.possible) ++severe;
  }
  const int n = static_cast<int>(figures.size());
  CAPTURE(n, above_95, persistent, severe);
  CHECK(n == options.pupils + 2);
  CHECK(2 * above_95 > n);            // most pupils above 95%
  CHECK(persistent * 100 >= 15 * n);  // ~1 in 5 persistently absent
  CHECK(persistent * 100 <= 25 * n);
  CHECK(severe >= 1);  // 1-2% severely absent
  CHECK(severe * 100 <= 3 * n);
}

TEST_CASE("loading the demo again is a no-op, also after a reopen", "[demo][slow]") {
  testing::TempDir dir;
  demo::DemoOptions options;
  options.pupils = 30;
  ledger::Position loaded = 0;
  {
    auto l = OpenLedger(dir.path());
    REQUIRE(demo::LoadDemo(*l, options).ok());
    loaded = l->LastPosition();
    REQUIRE(demo::LoadDemo(*l, options).ok());
    CHECK(l->LastPosition() == loaded);
  }
  auto l = OpenLedger(dir.path());
  REQUIRE(demo::LoadDemo(*l, options).ok());
  CHECK(l->LastPosition() == loaded);
  CHECK(l->VerifyChain(1, 0).ok());
}

TEST_CASE("a load up to a day, extended later, equals one full load", "[demo][slow]") {
  demo::DemoOptions options;
  options.pupils = 30;
  testing::TempDir full_dir, staged_dir;
  auto full = OpenLedger(full_dir.path());
  REQUIRE(demo::LoadDemo(*full, options).ok());

  auto staged = OpenLedger(staged_dir.path());
  demo::DemoOptions first = options;
  first.today = *ParseDate("2025-10-08");
  REQUIRE(demo::LoadDemo(*staged, first).ok());
  const ledger::Position partial = staged->LastPosition();
  CHECK(partial < full->LastPosition());
  for (const auto& e : AllEvents(*staged)) {
    if (e.has_mark_recorded()) CHECK(e.mark_recorded().date() <= "2025-10-08");
    if (e.has_letter_sent()) CHECK(e.letter_sent().sent_on() <= "2025-10-08");
  }
  REQUIRE(demo::LoadDemo(*staged, options).ok());

  const auto a = AllEvents(*full);
  const auto b = AllEvents(*staged);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].request_id() == b[i].request_id());
    CHECK(a[i].payload_case() == b[i].payload_case());
  }
}

TEST_CASE("bad demo options are INVALID_ARGUMENT", "[demo]") {
  testing::TempDir dir;
  auto l = OpenLedger(dir.path());
  demo::DemoOptions options;
  options.pupils = 0;
  CHECK(demo::LoadDemo(*l, options).code() == absl::StatusCode::kInvalidArgument);
  options.pupils = 10;
  options.school_id.clear();
  CHECK(demo::LoadDemo(*l, options).code() == absl::StatusCode::kInvalidArgument);
  CHECK(l->LastPosition() == 0);
}

}  // namespace
}  // namespace attendance
