// bench_audit: the Audit service's speed on a synthetic school, through a
// real RocksDB ledger (WAL sync off, in a temp dir), the read-model host
// and a real gRPC server on 127.0.0.1 (client and server in one process).
//
//   bench_audit [--pupils N] [--years N] [--queries N] [--data DIR [--prepare]]
//
// Without --data: writes N pupils (default 2,000) over N academic years
// (default 1: about 760,000 marks) into a temp dir, 2% of the marks N, each
// amended the next school day (to I, U or M; a tenth of those amended
// again). With --data DIR: the ledger in DIR, which, when it is empty, is
// first filled with tools/history's generated school (N pupils over N years
// ending 2025-26, seed 1: realistic absences, amendments, letters, joiners
// and leavers, as `ledger-history` writes it) and kept; --prepare stops
// once it is loaded and its read models built (checkpointed on the way out),
// so the load can run outside the timing and the queries on a quiet machine.
// Then measures: the audit read models' rebuild from position 1 (or their
// restore from checkpoints); GetMarkHistory p50/p99 of amended sessions;
// GetRegisterAsOf of a whole school's register p50/p99; ReplayAmendments
// amendments/s over the whole range; VerifyLedger events/s over the whole
// log. The README records a run.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "attendance/v1/audit_service.grpc.pb.h"
#include "command_line/command_line.h"
#include "command_line/latency.h"
#include "history/load_history.h"
#include "ledger/calendar.h"
#include "ledger/ledger.h"
#include "services/audit_service.h"
#include "services/read_model_host.h"
#include "services/server.h"

ABSL_FLAG(int, pupils, 2000, "pupils in the school");
ABSL_FLAG(int, years, 1, "academic years of marks, ending with 2025/26");
ABSL_FLAG(int, queries, 2000, "GetMarkHistory queries (a tenth as many registers)");
ABSL_FLAG(std::string, data, "",
          "keep the ledger here (filled with tools/history's school when empty)");
ABSL_FLAG(bool, prepare, false, "with --data: load and build the read models, then stop");

namespace {

using namespace attendance;  // NOLINT: a benchmark's main file
using Clock = std::chrono::steady_clock;
using tools::Ms;
using tools::Percentile;

constexpr const char* kUsage =
    "usage: bench_audit [--pupils N] [--years N] [--queries N] [--data DIR [--prepare]]\n";
constexpr const char* kSchool = "urn-100001";

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

v1::SchoolCalendarSet Calendar(int year) {
  v1::SchoolCalendarSet c;
  c.set_academic_year(year);
  const std::string y = std::to_string(year), n = std::to_string(year + 1);
  const std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>>
      terms = {{"Autumn", {{y + "-09-03", y + "-10-23"}, {y + "-11-02", y + "-12-18"}}},
               {"Spring", {{n + "-01-05", n + "-02-12"}, {n + "-02-22", n + "-03-26"}}},
               {"Summer", {{n + "-04-12", n + "-05-21"}, {n + "-06-01", n + "-07-20"}}}};
  for (const auto& [name, halves] : terms) {
    v1::Term* term = c.add_terms();
    term->set_name(name);
    int i = 1;
    for (const auto& [first, last] : halves) {
      v1::HalfTerm* half = term->add_half_terms();
      half->set_name(name + " " + std::to_string(i++));
      half->set_first_day(first);
      half->set_last_day(last);
    }
  }
  return c;
}

struct Written {
  std::vector<std::string> days;
  std::size_t marks = 0;
  std::size_t amendments = 0;
};

// The school through the ledger's commands: a RecordMarks batch per school
// day, the amendments of the day before after it.
absl::StatusOr<Written> Write(ledger::Ledger& log, std::atomic<std::int64_t>& now, int pupils,
                              int years) {
  const ledger::Principal admin{"bench admin", "admin"};
  const ledger::Principal officer{"bench officer", "attendance_officer"};
  auto at = [&](ledger::Day day, int minutes) {
    now = (static_cast<std::int64_t>(day) * 86400 + minutes * 60) * 1'000'000;
  };
  const int first_year = 2025 - years + 1;
  at(ledger::AcademicYearStart(first_year), 7 * 60);
  v1::SetSchoolSettingsRequest settings;
  settings.set_school_id(kSchool);
  settings.mutable_settings()->set_school_name("Bench Academy");
  if (auto r = log.SetSchoolSettings(admin, settings); !r.ok()) return r.status();
  std::mt19937 rng(2026);
  Written written;
  std::vector<std::pair<std::string, v1::Session>> pending;  // N marks: pupil, session
  std::string pending_date;
  const char* amended_to[] = {"I", "U", "M"};
  for (int y = first_year; y <= 2025; ++y) {
    at(ledger::AcademicYearStart(y), 8 * 60);
    v1::SetSchoolCalendarRequest cal;
    cal.set_school_id(kSchool);
    *cal.mutable_calendar() = Calendar(y);
    if (auto r = log.SetSchoolCalendar(admin, cal); !r.ok()) return r.status();
    ledger::SchoolCalendar calendar;
    calendar.Set(cal.calendar());
    if (y == first_year) {
      for (int p = 0; p < pupils; ++p) {
        v1::EnrolPupilRequest enrol;
        enrol.set_school_id(kSchool);
        v1::Pupil* pupil = enrol.mutable_pupil();
        pupil->set_pupil_id("pupil-" + std::to_string(100000 + p));
        pupil->set_given_name("Given");
        pupil->set_family_name("Family");
        pupil->set_year_group(7 + p % 5);
        pupil->set_class_name(std::to_string(7 + p % 5) + "A");
        enrol.set_on_roll_from(ledger::FormatDate(ledger::AcademicYearStart(y)));
        if (auto r = log.EnrolPupil(admin, enrol); !r.ok()) return r.status();
      }
    }
    for (ledger::Day day = ledger::AcademicYearStart(y); day < ledger::AcademicYearStart(y + 1);
         ++day) {
      if (!calendar.IsSchoolDay(day)) continue;
      const std::string date = ledger::FormatDate(day);
      at(day, 16 * 60);
      for (const auto& [pupil, session] : pending) {
        v1::AmendMarkRequest amend;
        amend.set_school_id(kSchool);
        amend.set_pupil_id(pupil);
        amend.set_date(pending_date);
        amend.set_session(session);
        amend.set_amended_code(amended_to[rng() % 3]);
        amend.set_reason("parent called back");
        if (auto r = log.AmendMark(officer, amend); !r.ok()) return r.status();
        ++written.amendments;
        if (rng() % 10 == 0) {
          amend.set_amended_code(amend.amended_code() == "M" ? "I" : "M");
          amend.set_reason("letter seen");
          if (auto r = log.AmendMark(admin, amend); !r.ok()) return r.status();
          ++written.amendments;
        }
      }
      pending.clear();
      v1::RecordMarksRequest req;
      req.set_school_id(kSchool);
      for (v1::Session session : {v1::AM, v1::PM}) {
        for (int p = 0; p < pupils; ++p) {
          v1::Mark* m = req.add_marks();
          m->set_pupil_id("pupil-" + std::to_string(100000 + p));
          m->set_date(date);
          m->set_session(session);
          const bool n = rng() % 50 == 0;
          m->set_code(n ? "N" : "/");
          if (n) pending.emplace_back(m->pupil_id(), session);
        }
      }
      if (auto r = log.RecordMarks(admin, req); !r.ok()) return r.status();
      written.marks += static_cast<std::size_t>(req.marks_size());
      written.days.push_back(date);
      pending_date = date;
    }
  }
  return written;
}

// One amended session, to ask GetMarkHistory about (and its date, for a
// register).
struct Session {
  std::string pupil_id;
  std::string date;
  v1::Session session;
};

int Run(int pupils, int years, int queries, const std::string& data, bool prepare) {
  std::string dir = data;
  struct RemoveDir {
    std::string path;
    ~RemoveDir() {
      std::error_code ignored;
      if (!path.empty()) std::filesystem::remove_all(path, ignored);
    }
  } remove_dir;
  if (dir.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "bench-audit-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) return 1;
    dir = remove_dir.path = pattern;
  }
  const bool generate = !data.empty() && !std::filesystem::exists(dir + "/db");
  std::atomic<std::int64_t> now{0};
  history::SourceClock source_clock(ledger::Clock([&] { return now.load(); }));
  ledger::LedgerOptions options;
  options.data_dir = dir + "/db";
  options.sync = false;
  options.clock = source_clock.Clock();
  options.hot_from = ledger::AcademicYearStart(2025 - years + 1);
  auto opened = ledger::Ledger::Open(options);
  if (!opened.ok()) {
    std::printf("open: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<ledger::Ledger> log = std::move(*opened);
  // After the history: 2026-08-01, so that "now" is past every entry.
  now = static_cast<std::int64_t>(ledger::AcademicYearStart(2026) - 31) * 86400 * 1'000'000;
  auto w0 = Clock::now();
  if (data.empty()) {
    absl::StatusOr<Written> written = Write(*log, now, pupils, years);
    if (!written.ok()) {
      std::printf("write: %s\n", written.status().ToString().c_str());
      return 1;
    }
    std::printf("wrote %zu marks, %zu amendments, %llu events in %.1f s\n", written->marks,
                written->amendments, static_cast<unsigned long long>(log->LastPosition()),
                Seconds(Clock::now() - w0));
  } else if (generate) {
    history::HistoryOptions plan;
    plan.school_id = kSchool;
    plan.pupils = pupils;
    plan.first_academic_year = 2025 - years + 1;
    plan.years = years;
    plan.seed = 1;
    auto stats = history::LoadHistory(*log, plan, &source_clock);
    if (!stats.ok()) {
      std::printf("history: %s\n", stats.status().ToString().c_str());
      return 1;
    }
    std::printf(
        "loaded tools/history's school: %llu marks, %llu amendments, %llu letters, %llu "
        "actions, %llu events in %.1f s\n",
        static_cast<unsigned long long>(stats->marks),
        static_cast<unsigned long long>(stats->amendments),
        static_cast<unsigned long long>(stats->letters),
        static_cast<unsigned long long>(stats->actions),
        static_cast<unsigned long long>(log->LastPosition()), Seconds(Clock::now() - w0));
  } else {
    std::printf("reusing %s: %llu events\n", dir.c_str(),
                static_cast<unsigned long long>(log->LastPosition()));
  }
  const ledger::Position events = log->LastPosition();

  services::MarkHistoryReadModel history;
  services::AuditIndexReadModel index;
  services::ReadModelHost host(log.get());
  if (!host.Add(&history).ok() || !host.Add(&index).ok()) return 1;
  w0 = Clock::now();
  if (!host.Start().ok()) return 1;
  const double rebuild = Seconds(Clock::now() - w0);
  std::printf("audit read models (mark history + index, side by side) %s: %.1f s (%.0f events/s)\n",
              data.empty() || generate ? "rebuilt from position 1" : "restored from checkpoints",
              rebuild, static_cast<double>(events) / rebuild);
  if (prepare) {
    host.Stop();
    return 0;
  }

  services::AuditServiceImpl audit(
      log.get(), &history, &index,
      {ledger::Clock([&] { return now.load(); }), nullptr, {}, nullptr});
  auto server = services::Server::Start("127.0.0.1:0", {&audit});
  if (!server.ok()) return 1;
  auto stub = v1::Audit::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string((*server)->port()), grpc::InsecureChannelCredentials()));
  std::mt19937 rng(7);

  // The sessions asked about: amended ones (a first recording and at least
  // one amendment each), from a first replay.
  std::vector<Session> sessions;
  {
    v1::ReplayAmendmentsRequest req;
    req.set_school_id(kSchool);
    req.set_range(v1::BY_AMENDED_AT);
    req.set_max_results(services::AuditServiceImpl::kMaxReplayResults);
    grpc::ClientContext context;
    auto reader = stub->ReplayAmendments(&context, req);
    v1::ReplayAmendmentsResponse item;
    while (reader->Read(&item)) {
      for (const v1::Amendment& a : item.amendments()) {
        sessions.push_back({a.pupil_id(), a.date(), a.session()});
      }
    }
    if (!reader->Finish().ok() || sessions.empty()) {
      std::printf("no amendments to ask about\n");
      return 1;
    }
  }

  std::vector<double> latencies;
  for (int i = 0; i < queries; ++i) {
    v1::GetMarkHistoryRequest req;
    req.set_school_id(kSchool);
    const Session& asked = sessions[rng() % sessions.size()];
    req.set_pupil_id(asked.pupil_id);
    req.set_date(asked.date);
    req.set_session(asked.session);
    v1::MarkHistory out;
    grpc::ClientContext context;
    const auto t0 = Clock::now();
    grpc::Status status = stub->GetMarkHistory(&context, req, &out);
    latencies.push_back(Ms(Clock::now() - t0));
    if (!status.ok()) {
      std::printf("GetMarkHistory: %s\n", status.error_message().c_str());
      return 1;
    }
  }
  std::printf("GetMarkHistory (gRPC round trip): p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
              Percentile(latencies, 0.5), Percentile(latencies, 0.99), Percentile(latencies, 1.0));

  latencies.clear();
  std::size_t lines = 0;
  for (int i = 0; i < std::max(10, queries / 10); ++i) {
    v1::GetRegisterAsOfRequest req;
    req.set_school_id(kSchool);
    const Session& asked = sessions[rng() % sessions.size()];
    const std::string& day = asked.date;
    req.set_date(day);
    req.set_session(asked.session);
    req.set_as_of_us((static_cast<std::int64_t>(*ledger::ParseDate(day)) * 86400 + 17 * 3600) *
                     1'000'000);
    v1::RegisterAsOf out;
    grpc::ClientContext context;
    const auto t0 = Clock::now();
    grpc::Status status = stub->GetRegisterAsOf(&context, req, &out);
    latencies.push_back(Ms(Clock::now() - t0));
    if (!status.ok()) {
      std::printf("GetRegisterAsOf: %s\n", status.error_message().c_str());
      return 1;
    }
    lines = static_cast<std::size_t>(out.lines_size());
  }
  std::printf("GetRegisterAsOf, whole school (%zu lines): p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
              lines, Percentile(latencies, 0.5), Percentile(latencies, 0.99),
              Percentile(latencies, 1.0));

  std::vector<double> rates;
  for (int i = 0; i < 5; ++i) {
    v1::ReplayAmendmentsRequest req;
    req.set_school_id(kSchool);
    req.set_range(v1::BY_AMENDED_AT);
    req.set_max_results(services::AuditServiceImpl::kMaxReplayResults);
    grpc::ClientContext context;
    const auto t0 = Clock::now();
    auto reader = stub->ReplayAmendments(&context, req);
    v1::ReplayAmendmentsResponse item;
    std::size_t n = 0;
    while (reader->Read(&item)) n += static_cast<std::size_t>(item.amendments_size());
    if (!reader->Finish().ok()) return 1;
    rates.push_back(static_cast<double>(n) / Seconds(Clock::now() - t0));
    if (i == 0) std::printf("ReplayAmendments: %zu amendments a replay\n", n);
  }
  std::printf("ReplayAmendments, whole range by time: median %.0f amendments/s (min %.0f)\n",
              Percentile(rates, 0.5), Percentile(rates, 0.0));

  {
    v1::VerifyLedgerRequest req;
    req.set_progress_every(1'000'000);
    grpc::ClientContext context;
    const auto t0 = Clock::now();
    const std::clock_t cpu0 = std::clock();
    auto reader = stub->VerifyLedger(&context, req);
    v1::VerifyLedgerProgress progress;
    while (reader->Read(&progress)) {
    }
    if (!reader->Finish().ok() || !progress.ok()) return 1;
    const double s = Seconds(Clock::now() - t0);
    const double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
    std::printf(
        "VerifyLedger, whole log: %llu events in %.2f s (%.0f events/s; %.2f s of CPU, %.0f "
        "events per CPU second)\n",
        static_cast<unsigned long long>(progress.verified_through()), s,
        static_cast<double>(progress.verified_through()) / s, cpu,
        static_cast<double>(progress.verified_through()) / cpu);
  }
  (*server)->Shutdown();
  host.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  constexpr std::string_view kProgram = "bench_audit";
  attendance::tools::ParseFlagsOrExit(argc, argv, kProgram, kUsage);
  return Run(static_cast<int>(attendance::tools::FlagAtLeast(kProgram, FLAGS_pupils, 1)),
             static_cast<int>(attendance::tools::FlagAtLeast(kProgram, FLAGS_years, 1)),
             static_cast<int>(attendance::tools::FlagAtLeast(kProgram, FLAGS_queries, 10)),
             absl::GetFlag(FLAGS_data), absl::GetFlag(FLAGS_prepare));
}
