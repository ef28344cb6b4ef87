// bench_projections: rebuild speed, query latency and memory of the
// attendance projection on a synthetic school.
//
//   bench_projections [--pupils N] [--years N] [--queries N] [--ledger 0|1]
//
// Synthesises N pupils (default 2,000) over N academic years (default 3,
// 190 school days each: about 2.3 million marks) as serialised
// EventEnvelopes, with hashes and actors like the ledger's, then measures:
// - fold only: AttendanceState::Apply over already-decoded envelopes;
// - decode + fold: ParseFromString into one reused envelope, then Apply, as a
//   rebuild through Ledger::ForEachEvent does (without RocksDB's own reads);
// - pupil queries (all windows, as of today and as of past dates): p50/p99;
// - the whole-school cohort table, plain and grouped, and the pupil list;
// - checkpoint encode / decode and size; memory per pupil-year;
// - with --ledger 1: the same school written through a real RocksDB ledger
//   (in a temp dir, WAL sync off), then a full rebuild through
//   services::ReadModelHost::Start (the log's tail from position 1), and a
//   restart from the checkpoint.
// Single-threaded throughout. The README records a run.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/flag.h"
#include "command_line/command_line.h"
#include "command_line/latency.h"
#include "ledger/calendar.h"
#include "ledger/ledger.h"
#include "projections/attendance_queries.h"
#include "projections/attendance_state.h"
#include "services/attendance_read_model.h"
#include "services/read_model_host.h"

ABSL_FLAG(int, pupils, 2000, "pupils in the synthetic school");
ABSL_FLAG(int, years, 3, "academic years of marks, 1..6");
ABSL_FLAG(int, queries, 20000, "pupil queries timed");
ABSL_FLAG(int, ledger, 0, "1: also write the school through a real ledger and rebuild from it");

namespace attendance::projections {
namespace {

using Clock = std::chrono::steady_clock;
using tools::Percentile;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

v1::SchoolCalendarSet Calendar190(int y) {
  auto d = [](int year, const char* md) {
    return *ledger::ParseDate(std::to_string(year) + "-" + md);
  };
  v1::SchoolCalendarSet c;
  c.set_academic_year(y);
  struct H {
    const char *term, *half;
    ledger::Day first, last;
  };
  const H halves[] = {{"Autumn", "Autumn 1", d(y, "09-01"), d(y, "10-24")},
                      {"Autumn", "Autumn 2", d(y, "11-03"), d(y, "12-19")},
                      {"Spring", "Spring 1", d(y + 1, "01-05"), d(y + 1, "02-13")},
                      {"Spring", "Spring 2", d(y + 1, "02-23"), d(y + 1, "03-27")},
                      {"Summer", "Summer 1", d(y + 1, "04-13"), d(y + 1, "05-22")},
                      {"Summer", "Summer 2", d(y + 1, "06-01"), d(y + 1, "07-20")}};
  for (const H& h : halves) {
    v1::Term* term = c.terms_size() > 0 && c.terms(c.terms_size() - 1).name() == h.term
                         ? c.mutable_terms(c.terms_size() - 1)
                         : c.add_terms();
    term->set_name(h.term);
    v1::HalfTerm* half = term->add_half_terms();
    half->set_name(h.half);
    half->set_first_day(ledger::FormatDate(h.first));
    half->set_last_day(ledger::FormatDate(h.last));
  }
  // Trim the weekdays to 190 school days with whole-school INSET closures.
  ledger::SchoolCalendar cal;
  cal.Set(c);
  int days = 0;
  for (ledger::Day x = ledger::AcademicYearStart(y); x < ledger::AcademicYearStart(y + 1); ++x) {
    days += cal.IsSchoolDay(x) ? 1 : 0;
  }
  for (ledger::Day x = halves[0].first; days > 190; ++x) {
    if (!cal.IsSchoolDay(x) || ledger::Weekday(x) != 0) continue;
    c.add_closures()->set_date(ledger::FormatDate(x));
    --days;
  }
  return c;
}

struct History {
  std::vector<std::string> events;  // serialised EventEnvelopes
  std::size_t marks = 0;
  ledger::Day last_day = 0;
  int pupils = 0;
  int years = 0;
};

History Synthesise(int pupils, int years) {
  History h;
  h.pupils = pupils;
  h.years = years;
  std::mt19937 rng(2025);
  std::uniform_real_distribution<double> u(0, 1);
  const std::vector<std::string> absences = {"I", "I", "I", "M", "C", "E", "G", "O", "N", "U"};
  const std::string hash(32, '\x5a');
  std::uint64_t position = 0;
  v1::EventEnvelope e;
  auto emit = [&](ledger::Day day, int minute) {
    e.set_position(++position);
    e.set_school_id("urn-100001");
    e.set_recorded_at_us((static_cast<std::int64_t>(day) * 86400 + 8 * 3600 + minute * 60) *
                         1'000'000);
    e.mutable_actor()->set_name("register.client");
    e.mutable_actor()->set_role("teacher");
    e.set_hash(hash);
    e.set_prev_hash(hash);
    h.events.push_back(e.SerializeAsString());
    e.Clear();
  };
  const int first_year = 2025 - years + 1;
  std::vector<double> absence_rate(static_cast<std::size_t>(pupils));
  for (double& r : absence_rate) r = u(rng) < 0.2 ? 0.05 + 0.3 * u(rng) : 0.04 * u(rng);
  for (int y = first_year; y <= 2025; ++y) {
    const v1::SchoolCalendarSet set = Calendar190(y);
    ledger::SchoolCalendar cal;
    cal.Set(set);
    *e.mutable_school_calendar_set() = set;
    emit(ledger::AcademicYearStart(y), 0);
    if (y == first_year) {
      for (int p = 0; p < pupils; ++p) {
        v1::Pupil* pupil = e.mutable_pupil_enrolled()->mutable_pupil();
        pupil->set_pupil_id("pupil-" + std::to_string(100000 + p));
        pupil->set_given_name("Given");
        pupil->set_family_name("Family" + std::to_string(p));
        pupil->set_year_group(7 + p % 5);
        pupil->set_class_name(std::to_string(7 + p % 5) + static_cast<char>('A' + p % 8));
        pupil->set_sex(p % 2 == 0 ? v1::FEMALE : v1::MALE);
        pupil->set_send(p % 7 == 0 ? v1::SEN_SUPPORT : v1::SEND_NONE);
        pupil->set_pupil_premium(p % 4 == 0);
        pupil->set_free_school_meals(p % 5 == 0);
        pupil->set_eal(p % 6 == 0);
        e.mutable_pupil_enrolled()->set_on_roll_from(
            ledger::FormatDate(ledger::AcademicYearStart(y)));
        emit(ledger::AcademicYearStart(y), 1);
      }
    }
    for (ledger::Day day = ledger::AcademicYearStart(y); day < ledger::AcademicYearStart(y + 1);
         ++day) {
      if (!cal.IsSchoolDay(day)) continue;
      const std::string date = ledger::FormatDate(day);
      for (v1::Session session : {v1::AM, v1::PM}) {
        for (int p = 0; p < pupils; ++p) {
          const bool absent = u(rng) < absence_rate[static_cast<std::size_t>(p)];
          v1::MarkRecorded* m = e.mutable_mark_recorded();
          m->set_pupil_id("pupil-" + std::to_string(100000 + p));
          m->set_date(date);
          m->set_session(session);
          m->set_code(absent ? absences[rng() % absences.size()]
                             : (session == v1::AM ? (u(rng) < 0.03 ? "L" : "/") : "\\"));
          m->mutable_taken_by()->set_name("teacher");
          m->mutable_taken_by()->set_role("teacher");
          emit(day, session == v1::AM ? 50 : 5 * 60);
          ++h.marks;
        }
      }
      // About 1% of today's N marks are amended a few days later: model as a
      // same-day amendment of one pupil in fifty.
      for (int p = 0; p < pupils; p += 50) {
        v1::MarkAmended* a = e.mutable_mark_amended();
        a->set_pupil_id("pupil-" + std::to_string(100000 + p));
        a->set_date(date);
        a->set_session(v1::AM);
        a->set_original_code("/");
        a->set_amended_code("L");
        a->set_reason("arrived before close");
        emit(day + 2, 600);
      }
      h.last_day = day;
    }
  }
  return h;
}

int Run(int pupils, int years, int queries) {
  std::printf("synthesising %d pupils x %d years...\n", pupils, years);
  const History h = Synthesise(pupils, years);
  std::size_t bytes = 0;
  for (const std::string& s : h.events) bytes += s.size();
  std::printf("events: %zu (%zu marks), %.1f MB serialised\n", h.events.size(), h.marks,
              static_cast<double>(bytes) / 1e6);

  // Fold only, over chunks decoded beforehand.
  double fold_seconds = 0;
  {
    AttendanceState state;
    constexpr std::size_t kChunk = 1 << 16;
    std::vector<v1::EventEnvelope> chunk(kChunk);
    for (std::size_t i = 0; i < h.events.size(); i += kChunk) {
      const std::size_t n = std::min(kChunk, h.events.size() - i);
      for (std::size_t j = 0; j < n; ++j) chunk[j].ParseFromString(h.events[i + j]);
      const auto t0 = Clock::now();
      for (std::size_t j = 0; j < n; ++j) state.Apply(chunk[j]);
      fold_seconds += Seconds(t0, Clock::now());
    }
  }
  std::printf("fold only:       %.2f s, %.2f M events/s\n", fold_seconds,
              static_cast<double>(h.events.size()) / fold_seconds / 1e6);

  // Decode + fold, one reused envelope.
  AttendanceState state;
  const auto t0 = Clock::now();
  {
    v1::EventEnvelope envelope;
    for (const std::string& s : h.events) {
      envelope.ParseFromString(s);
      state.Apply(envelope);
    }
  }
  const double rebuild = Seconds(t0, Clock::now());
  std::printf("decode + fold:   %.2f s, %.2f M events/s\n", rebuild,
              static_cast<double>(h.events.size()) / rebuild / 1e6);

  const double pupil_years = static_cast<double>(pupils) * years;
  std::printf("memory: %.0f bytes per pupil-year (state estimate %.1f MB)\n",
              static_cast<double>(state.ApproximateBytes()) / pupil_years,
              static_cast<double>(state.ApproximateBytes()) / 1e6);

  // Checkpoint.
  const auto e0 = Clock::now();
  const std::string encoded = state.Encode();
  const auto e1 = Clock::now();
  absl::StatusOr<AttendanceState> decoded = AttendanceState::Decode(encoded);
  const auto e2 = Clock::now();
  std::printf("checkpoint: %.1f MB, encode %.0f ms, decode %.0f ms, identical %s\n",
              static_cast<double>(encoded.size()) / 1e6, Seconds(e0, e1) * 1e3,
              Seconds(e1, e2) * 1e3, decoded.ok() && decoded->Encode() == encoded ? "yes" : "NO");

  // Pupil queries: all windows, today and as of random past dates.
  std::mt19937 rng(7);
  const ledger::Day today = h.last_day;
  for (bool past : {false, true}) {
    std::vector<double> latencies;
    for (int i = 0; i < queries; ++i) {
      v1::GetPupilAttendanceRequest req;
      req.set_school_id("urn-100001");
      req.set_pupil_id("pupil-" + std::to_string(100000 + rng() % static_cast<unsigned>(pupils)));
      // Any day since the first enrolment (at the start of the first year).
      const auto span = static_cast<unsigned>(today - ledger::AcademicYearStart(2025 - years + 1));
      if (past) req.set_as_of(ledger::FormatDate(today - static_cast<int>(rng() % span)));
      const auto q0 = Clock::now();
      absl::StatusOr<v1::PupilAttendance> r = QueryPupilAttendance(state, req, today);
      latencies.push_back(Seconds(q0, Clock::now()) * 1e3);
      if (!r.ok()) {
        std::printf("query failed: %s\n", r.status().ToString().c_str());
        return 1;
      }
    }
    std::printf("pupil, all %s windows (%s): p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", "10",
                past ? "as of a past date" : "as of today", Percentile(latencies, 0.5),
                Percentile(latencies, 0.99), Percentile(latencies, 1.0));
  }

  struct Case {
    const char* name;
    std::vector<v1::CohortAttribute> group_by;
    v1::WindowKind kind;
    std::uint32_t weeks;
  };
  const Case cases[] = {
      {"whole school, year to date", {}, v1::ACADEMIC_YEAR_TO_DATE, 0},
      {"by year group x sex x disadvantaged, year to date",
       {v1::YEAR_GROUP, v1::SEX, v1::DISADVANTAGED},
       v1::ACADEMIC_YEAR_TO_DATE,
       0},
      {"by class, last 12 school weeks", {v1::CLASS_NAME}, v1::ROLLING_SCHOOL_WEEKS, 12}};
  for (const Case& c : cases) {
    std::vector<double> latencies;
    for (int i = 0; i < 30; ++i) {
      v1::GetCohortAttendanceRequest req;
      req.set_school_id("urn-100001");
      for (auto a : c.group_by) req.add_group_by(a);
      req.mutable_window()->set_kind(c.kind);
      req.mutable_window()->set_weeks(c.weeks);
      const auto q0 = Clock::now();
      absl::StatusOr<v1::CohortAttendanceResponse> r = QueryCohorts(state, req, today);
      latencies.push_back(Seconds(q0, Clock::now()) * 1e3);
      if (!r.ok() || r->whole_school().pupils() != static_cast<std::uint32_t>(pupils)) {
        std::printf("cohort query failed\n");
        return 1;
      }
    }
    std::printf("cohort table, %s: p50 %.2f ms, max %.2f ms\n", c.name, Percentile(latencies, 0.5),
                Percentile(latencies, 1.0));
  }
  {
    std::vector<double> latencies;
    for (int i = 0; i < 30; ++i) {
      v1::ListPupilAttendanceRequest req;
      req.set_school_id("urn-100001");
      req.set_only_persistent_absence(true);
      const auto q0 = Clock::now();
      absl::StatusOr<v1::ListPupilAttendanceResponse> r = QueryPupilList(state, req, today);
      latencies.push_back(Seconds(q0, Clock::now()) * 1e3);
      if (!r.ok()) return 1;
      if (i == 0) std::printf("PA pupils year to date: %u\n", r->total_size());
    }
    std::printf("pupil list, PA only, sorted, first page: p50 %.2f ms, max %.2f ms\n",
                Percentile(latencies, 0.5), Percentile(latencies, 1.0));
  }
  return 0;
}

// Writes the school through the ledger's commands, one RecordMarks batch per
// school day, then rebuilds the projection from the log.
int RunLedger(int pupils, int years) {
  std::string pattern = (std::filesystem::temp_directory_path() / "bench-proj-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) return 1;
  const std::string dir = pattern;
  struct RemoveDir {
    std::string path;
    ~RemoveDir() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  } remove_dir{dir};
  const int first_year = 2025 - years + 1;
  int rc = 0;
  {
    std::atomic<std::int64_t> now{0};
    ledger::LedgerOptions options;
    options.data_dir = dir + "/db";
    options.sync = false;
    options.clock = ledger::Clock([&] { return now.load(); });
    options.hot_from = ledger::AcademicYearStart(first_year);
    auto opened = ledger::Ledger::Open(options);
    if (!opened.ok()) {
      std::printf("ledger open failed: %s\n", opened.status().ToString().c_str());
      return 1;
    }
    std::unique_ptr<ledger::Ledger> log = std::move(*opened);
    const ledger::Principal admin{"bench", "admin"};
    auto at = [&](ledger::Day day, int minutes) {
      now = (static_cast<std::int64_t>(day) * 86400 + minutes * 60) * 1'000'000;
    };
    std::mt19937 rng(2025);
    std::uniform_real_distribution<double> u(0, 1);
    const char* absences[] = {"I", "I", "I", "M", "C", "E", "G", "O", "N", "U"};
    std::vector<double> rate(static_cast<std::size_t>(pupils));
    for (double& r : rate) r = u(rng) < 0.2 ? 0.05 + 0.3 * u(rng) : 0.04 * u(rng);
    std::size_t marks = 0;
    const auto w0 = Clock::now();
    at(ledger::AcademicYearStart(first_year), 7 * 60);
    v1::SetSchoolSettingsRequest settings;
    settings.set_school_id("urn-100001");
    settings.set_request_id("settings");
    settings.mutable_settings()->set_school_name("Bench Academy");
    if (auto r = log->SetSchoolSettings(admin, settings); !r.ok()) {
      std::printf("settings: %s\n", r.status().ToString().c_str());
      return 1;
    }
    for (int y = first_year; y <= 2025; ++y) {
      at(ledger::AcademicYearStart(y), 8 * 60);
      v1::SetSchoolCalendarRequest cal;
      cal.set_school_id("urn-100001");
      cal.set_request_id("calendar-" + std::to_string(y));
      *cal.mutable_calendar() = Calendar190(y);
      if (auto r = log->SetSchoolCalendar(admin, cal); !r.ok()) {
        std::printf("calendar: %s\n", r.status().ToString().c_str());
        return 1;
      }
      ledger::SchoolCalendar calendar;
      calendar.Set(cal.calendar());
      if (y == first_year) {
        for (int p = 0; p < pupils; ++p) {
          v1::EnrolPupilRequest enrol;
          enrol.set_school_id("urn-100001");
          enrol.set_request_id("enrol-" + std::to_string(p));
          v1::Pupil* pupil = enrol.mutable_pupil();
          pupil->set_pupil_id("pupil-" + std::to_string(100000 + p));
          pupil->set_given_name("Given");
          pupil->set_family_name("Family");
          pupil->set_date_of_birth("2012-01-01");
          pupil->set_year_group(7 + p % 5);
          pupil->set_class_name(std::to_string(7 + p % 5) + "A");
          pupil->set_sex(p % 2 == 0 ? v1::FEMALE : v1::MALE);
          pupil->set_pupil_premium(p % 4 == 0);
          enrol.set_on_roll_from(ledger::FormatDate(ledger::AcademicYearStart(y)));
          if (auto r = log->EnrolPupil(admin, enrol); !r.ok()) {
            std::printf("enrol: %s\n", r.status().ToString().c_str());
            return 1;
          }
        }
      }
      for (ledger::Day day = ledger::AcademicYearStart(y); day < ledger::AcademicYearStart(y + 1);
           ++day) {
        if (!calendar.IsSchoolDay(day)) continue;
        at(day, 16 * 60);
        v1::RecordMarksRequest req;
        req.set_school_id("urn-100001");
        req.set_request_id("marks-" + ledger::FormatDate(day));
        const std::string date = ledger::FormatDate(day);
        for (v1::Session session : {v1::AM, v1::PM}) {
          for (int p = 0; p < pupils; ++p) {
            v1::Mark* m = req.add_marks();
            m->set_pupil_id("pupil-" + std::to_string(100000 + p));
            m->set_date(date);
            m->set_session(session);
            const bool absent = u(rng) < rate[static_cast<std::size_t>(p)];
            m->set_code(absent ? absences[rng() % 10] : (session == v1::AM ? "/" : "\\"));
          }
        }
        marks += static_cast<std::size_t>(req.marks_size());
        if (auto r = log->RecordMarks(admin, req); !r.ok()) {
          std::printf("marks %s: %s\n", date.c_str(), r.status().ToString().c_str());
          return 1;
        }
      }
    }
    const double write_s = Seconds(w0, Clock::now());
    const ledger::Position last = log->LastPosition();
    std::printf("ledger: %llu events (%zu marks) written in %.1f s (WAL sync off)\n",
                static_cast<unsigned long long>(last), marks, write_s);

    std::size_t scanned = 0;
    const auto s0 = Clock::now();
    if (!log->ForEachEvent(1, [&](const v1::EventEnvelope&) { return ++scanned, true; }).ok())
      rc = 1;
    const double scan_s = Seconds(s0, Clock::now());
    std::printf("ledger scan only (ForEachEvent from 1): %.2f s, %.2f M events/s\n", scan_s,
                static_cast<double>(scanned) / scan_s / 1e6);

    {
      LiveAttendance live;
      services::AttendanceReadModel model(&live);
      services::ReadModelHost runner(log.get());
      if (!runner.Add(&model).ok()) rc = 1;
      const auto r0 = Clock::now();
      if (!runner.Start().ok()) rc = 1;
      const double rebuild_s = Seconds(r0, Clock::now());
      std::printf("rebuild from position 1 through the ledger: %.2f s, %.2f M events/s\n",
                  rebuild_s, static_cast<double>(last) / rebuild_s / 1e6);
      runner.Stop();  // saves the checkpoint
    }
    {
      LiveAttendance live;
      services::AttendanceReadModel model(&live);
      services::ReadModelHost runner(log.get());
      if (!runner.Add(&model).ok()) rc = 1;
      const auto r0 = Clock::now();
      if (!runner.Start().ok() || live.position() != last) rc = 1;
      std::printf("restart from the checkpoint: %.0f ms\n", Seconds(r0, Clock::now()) * 1e3);
      runner.Stop();
    }
  }
  return rc;
}

}  // namespace
}  // namespace attendance::projections

int main(int argc, char** argv) {
  constexpr std::string_view kProgram = "bench_projections";
  constexpr std::string_view kUsage =
      "usage: bench_projections [--pupils N] [--years 1..6] [--queries N] [--ledger 0|1]\n";
  if (!attendance::tools::ParseFlagsOrExit(argc, argv, kProgram, kUsage).empty()) {
    attendance::tools::ExitBadUsage(kProgram, "takes no arguments, only flags");
  }
  const int pupils = static_cast<int>(attendance::tools::FlagAtLeast(kProgram, FLAGS_pupils, 1));
  const int years = static_cast<int>(attendance::tools::FlagAtLeast(kProgram, FLAGS_years, 1));
  const int queries = static_cast<int>(attendance::tools::FlagAtLeast(kProgram, FLAGS_queries, 1));
  const int with_ledger = absl::GetFlag(FLAGS_ledger);
  if (years > 6) attendance::tools::ExitBadUsage(kProgram, "--years: at most 6");
  const int rc = attendance::projections::Run(pupils, years, queries);
  if (rc != 0 || with_ledger == 0) return rc;
  return attendance::projections::RunLedger(pupils, years);
}
