// Power loss, not only SIGKILL: a killed process leaves the kernel's page
// cache behind, a power cut does not. The ledger runs on PowerLossSimulator,
// which at a crash drops every byte not synced and undoes every directory
// change not fsynced; writers submit mixed commands meanwhile. After each
// crash the ledger is reopened on what survived and must hold every
// acknowledged request exactly once, nothing half-written, and a chain that
// verifies. The sweep covers the commit pipeline (WAL appends and syncs,
// new WALs and MANIFEST writes), memtable flushes and compactions.
#include "ledger/power_loss.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ledger/ledger.h"
#include "support/fixtures.h"

namespace attendance::testing {
namespace {

using Activity = ledger::PowerLossSimulator::Activity;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

constexpr int kWriters = 3;
constexpr int kPupilsPerWriter = 48;
constexpr int kBatchesPerWriter = 40;
// RocksDB's smallest memtable: with this many marks (5,760 a run) each run
// flushes several times and compacts the indexes, whose flushes overlap.
constexpr std::size_t kMemtableBytes = 64 << 10;

// One command of the workload, and what became of it.
struct Request {
  enum class Kind { kSettings, kCalendar, kEnrol, kMarks, kAmend, kLetter };
  static Request Of(Kind kind, std::string id) {
    Request r;
    r.kind = kind;
    r.id = std::move(id);
    return r;
  }
  Kind kind = Kind::kMarks;
  std::string id;
  v1::SetSchoolSettingsRequest settings;
  v1::SetSchoolCalendarRequest calendar;
  v1::EnrolPupilRequest enrol;
  v1::RecordMarksRequest marks;
  v1::AmendMarkRequest amend;
  v1::RecordLetterRequest letter;

  std::size_t events() const {
    return kind == Kind::kMarks ? static_cast<std::size_t>(marks.marks_size()) : 1;
  }
};

struct Outcome {
  absl::Status status = absl::UnavailableError("not submitted");
  ledger::Position first = 0;
  ledger::Position last = 0;
  bool replayed = false;
};

Outcome Submit(ledger::Ledger& ledger, const Request& r) {
  Outcome out;
  auto write = [&](const absl::StatusOr<v1::WriteResponse>& result) {
    out.status = result.status();
    if (result.ok()) {
      out.first = out.last = result->position();
      out.replayed = result->replayed();
    }
  };
  switch (r.kind) {
    case Request::Kind::kSettings:
      write(ledger.SetSchoolSettings(kOfficer, r.settings));
      break;
    case Request::Kind::kCalendar:
      write(ledger.SetSchoolCalendar(kOfficer, r.calendar));
      break;
    case Request::Kind::kEnrol:
      write(ledger.EnrolPupil(kOfficer, r.enrol));
      break;
    case Request::Kind::kLetter:
      write(ledger.RecordLetter(kOfficer, r.letter));
      break;
    case Request::Kind::kMarks: {
      auto result = ledger.RecordMarks(kTeacher, r.marks);
      out.status = result.status();
      if (result.ok()) {
        out.first = result->first_position();
        out.last = result->last_position();
        out.replayed = result->replayed();
      }
      break;
    }
    case Request::Kind::kAmend: {
      auto result = ledger.AmendMark(kOfficer, r.amend);
      out.status = result.status();
      if (result.ok()) {
        out.first = out.last = result->position();
        out.replayed = result->replayed();
      }
      break;
    }
  }
  return out;
}

// School days of Calendar2025's first half-term from Monday 8 September,
// without the INSET day and the year-7 closure.
std::vector<std::string> SchoolDays() {
  std::vector<std::string> days;
  for (ledger::Day d = *ledger::ParseDate("2025-09-08"); d <= *ledger::ParseDate("2025-10-24");
       ++d) {
    const std::string date = ledger::FormatDate(d);
    if (ledger::Weekday(d) >= 5 || date == "2025-09-19" || date == "2025-10-01") continue;
    days.push_back(date);
  }
  return days;
}

// Writer w's commands, in order: enrol its pupils, then a batch of marks
// per session; every third batch has an N that is then amended to I, and
// every fourth is followed by a letter.
std::vector<Request> WriterPlan(int w) {
  const std::vector<std::string> days = SchoolDays();
  std::vector<Request> plan;
  auto pupil = [w](int p) { return absl::StrCat("w", w, "-p", p); };
  for (int p = 0; p < kPupilsPerWriter; ++p) {
    Request r = Request::Of(Request::Kind::kEnrol, absl::StrCat("enrol-", pupil(p)));
    r.enrol = Enrol("s1", pupil(p), "2025-09-01", 8);  // year 8: no year-7 closure
    r.enrol.set_request_id(r.id);
    plan.push_back(std::move(r));
  }
  for (int b = 0; b < kBatchesPerWriter; ++b) {
    const std::string& day = days[static_cast<std::size_t>(b / 2)];
    const v1::Session session = b % 2 == 0 ? v1::AM : v1::PM;
    const int absent = b % kPupilsPerWriter;
    const bool amended = b % 3 == 1;
    Request r = Request::Of(Request::Kind::kMarks, absl::StrCat("marks-w", w, "-b", b));
    r.marks.set_school_id("s1");
    r.marks.set_request_id(r.id);
    for (int p = 0; p < kPupilsPerWriter; ++p) {
      const char* code = session == v1::AM ? "/" : "\\";
      if (p == absent) code = amended ? "N" : "I";
      *r.marks.add_marks() = MakeMark(pupil(p), day, session, code);
    }
    plan.push_back(std::move(r));
    if (amended) {
      Request a = Request::Of(Request::Kind::kAmend, absl::StrCat("amend-w", w, "-b", b));
      a.amend.set_school_id("s1");
      a.amend.set_request_id(a.id);
      a.amend.set_pupil_id(pupil(absent));
      a.amend.set_date(day);
      a.amend.set_session(session);
      a.amend.set_amended_code("I");
      a.amend.set_expected_code("N");
      a.amend.set_reason("parent phoned: ill");
      plan.push_back(std::move(a));
    }
    if (b % 4 == 3) {
      Request l = Request::Of(Request::Kind::kLetter, absl::StrCat("letter-w", w, "-b", b));
      l.letter.set_school_id("s1");
      l.letter.set_request_id(l.id);
      l.letter.set_pupil_id(pupil(absent));
      l.letter.set_letter_id("letter_1");
      l.letter.set_channel(v1::POST);
      l.letter.set_sent_on(day);
      plan.push_back(std::move(l));
    }
  }
  return plan;
}

std::vector<Request> SetupPlan() {
  Request settings = Request::Of(Request::Kind::kSettings, "settings");
  settings.settings = Settings("s1");
  settings.settings.set_request_id(settings.id);
  Request calendar = Request::Of(Request::Kind::kCalendar, "calendar");
  calendar.calendar = Calendar2025("s1");
  calendar.calendar.set_request_id(calendar.id);
  return {settings, calendar};
}

// The plans, and after a run, the acknowledgement each request got.
struct Workload {
  Workload() {
    plans.push_back(SetupPlan());
    for (int w = 0; w < kWriters; ++w) plans.push_back(WriterPlan(w));
    acks.resize(plans.size());
    for (std::size_t i = 0; i < plans.size(); ++i) acks[i].resize(plans[i].size());
  }
  std::vector<std::vector<Request>> plans;  // [0]: setup, then one per writer
  std::vector<std::vector<Outcome>> acks;   // status OK = acknowledged
};

void RequireReset(ledger::PowerLossSimulator& sim) {
  const absl::Status reset = sim.Reset();
  INFO(reset.ToString());
  REQUIRE(reset.ok());
}

ledger::LedgerOptions Options(const std::string& data_dir, ledger::PowerLossSimulator& sim) {
  ledger::LedgerOptions options;
  options.data_dir = data_dir;
  options.clock = ledger::Clock::Fixed(1'760'000'000'000'000);
  options.hot_from = ledger::AcademicYearStart(2024);
  options.power_loss = &sim;
  options.memtable_bytes = kMemtableBytes;
  return options;
}

// Runs a plan until its first failure, which must come from the power cut.
void RunPlan(ledger::Ledger& ledger, const ledger::PowerLossSimulator& sim,
             const std::vector<Request>& plan, std::vector<Outcome>& acks,
             std::vector<std::string>& refused) {
  for (std::size_t i = 0; i < plan.size(); ++i) {
    acks[i] = Submit(ledger, plan[i]);
    if (!acks[i].status.ok()) {
      // The simulator marks the power lost before the failing operation
      // returns, so a refusal with the power on is a real one.
      if (!sim.power_lost()) refused.push_back(plan[i].id + ": " + acks[i].status.ToString());
      acks[i].status = absl::UnavailableError("not acknowledged");
      return;
    }
  }
}

// Events per request id, by position.
std::map<std::string, std::vector<ledger::Position>> EventsByRequest(const ledger::Ledger& ledger) {
  std::map<std::string, std::vector<ledger::Position>> by_request;
  REQUIRE(ledger
              .ForEachEvent(1,
                            [&](const v1::EventEnvelope& e) {
                              by_request[e.request_id()].push_back(e.position());
                              return true;
                            })
              .ok());
  return by_request;
}

std::vector<ledger::Position> Range(ledger::Position first, ledger::Position last) {
  std::vector<ledger::Position> positions;
  for (ledger::Position p = first; p <= last && first != 0; ++p) positions.push_back(p);
  return positions;
}

struct PointResult {
  std::string crash_point;
  std::size_t acknowledged = 0;
  std::size_t unacknowledged_whole = 0;  // not acknowledged, found complete
  std::size_t unacknowledged_absent = 0;
};

// Checks the reopened ledger against what was acknowledged, then submits
// every request again with its id: acknowledged ones (and unacknowledged
// ones that survived whole) must be answered as replays at their
// positions, the rest applied once.
void CheckSurvivors(ledger::Ledger& ledger, Workload& work, PointResult& result) {
  INFO("crash point: " << result.crash_point);
  REQUIRE(ledger.VerifyChain(1, 0).ok());
  auto stored = EventsByRequest(ledger);
  std::size_t events = 0;
  for (const auto& [id, positions] : stored) events += positions.size();
  CHECK(events == ledger.LastPosition());
  for (std::size_t p = 0; p < work.plans.size(); ++p) {
    for (std::size_t i = 0; i < work.plans[p].size(); ++i) {
      const Request& r = work.plans[p][i];
      const Outcome& ack = work.acks[p][i];
      INFO("request " << r.id);
      auto it = stored.find(r.id);
      const std::vector<ledger::Position> found =
          it == stored.end() ? std::vector<ledger::Position>{} : it->second;
      if (it != stored.end()) stored.erase(it);
      if (ack.status.ok()) {
        ++result.acknowledged;
        CHECK(found == Range(ack.first, ack.last));
        CHECK(found.size() == r.events());
      } else {
        // All or nothing.
        CHECK((found.empty() || found.size() == r.events()));
        ++(found.empty() ? result.unacknowledged_absent : result.unacknowledged_whole);
      }
    }
  }
  CHECK(stored.empty());  // no events under ids nobody sent

  // The retries, one thread per writer as in the workload (setup first).
  std::vector<std::vector<Outcome>> again(work.plans.size());
  auto retry = [&](std::size_t p) {
    for (const Request& r : work.plans[p]) again[p].push_back(Submit(ledger, r));
  };
  retry(0);
  std::vector<std::thread> retriers;
  for (std::size_t p = 1; p < work.plans.size(); ++p) retriers.emplace_back(retry, p);
  for (auto& t : retriers) t.join();
  for (std::size_t p = 0; p < work.plans.size(); ++p) {
    for (std::size_t i = 0; i < work.plans[p].size(); ++i) {
      INFO("retry of " << work.plans[p][i].id);
      REQUIRE(again[p][i].status.ok());
      if (work.acks[p][i].status.ok()) {
        CHECK(again[p][i].replayed);
        CHECK(again[p][i].first == work.acks[p][i].first);
        CHECK(again[p][i].last == work.acks[p][i].last);
      }
    }
  }
  stored = EventsByRequest(ledger);
  for (const auto& plan : work.plans) {
    for (const Request& r : plan) {
      INFO("after retries: " << r.id);
      CHECK(stored[r.id].size() == r.events());
    }
  }
  CHECK(ledger.VerifyChain(1, 0).ok());
}

// The workload of one crash point, run in a child process (the test case
// below) so that, as in a real power cut, nothing runs after the cut: the
// ledger is never closed. (Closing a RocksDB 7.8 that failed mid-flush can
// also trip its assertions on leaked references.) The child writes what was
// acknowledged to `out`; the parent checks the surviving files.
constexpr const char* kChildTest = "power loss child: one crash point of the sweep";

void RunWorkloadAndCrash(const std::string& data_dir, std::uint64_t nth, Activity activity,
                         const std::string& out_path) {
  ledger::PowerLossSimulator sim;
  Workload work;
  sim.Arm(nth, activity);
  ledger::LedgerOptions options = Options(data_dir, sim);
  auto opened = ledger::Ledger::Open(options);
  std::vector<std::string> refused;
  if (opened.ok()) {
    ledger::Ledger& ledger = **opened;
    RunPlan(ledger, sim, work.plans[0], work.acks[0], refused);
    std::vector<std::thread> writers;
    std::vector<std::vector<std::string>> writer_refused(work.plans.size());
    for (std::size_t w = 1; w < work.plans.size(); ++w) {
      writers.emplace_back(
          [&, w] { RunPlan(ledger, sim, work.plans[w], work.acks[w], writer_refused[w]); });
    }
    for (auto& t : writers) t.join();
    for (auto& r : writer_refused) refused.insert(refused.end(), r.begin(), r.end());
  } else if (!sim.power_lost()) {
    refused.push_back("open: " + opened.status().ToString());
  }
  sim.Crash();  // if the armed point was not reached
  std::ofstream out(out_path);
  out << "ops";
  for (auto a : {Activity::kAny, Activity::kForeground, Activity::kFlush, Activity::kCompaction}) {
    out << " " << sim.operations(a);
  }
  out << "\npoint " << sim.crash_point() << "\n";
  for (const std::string& r : refused) out << "refused " << r << "\n";
  for (std::size_t p = 0; p < work.plans.size(); ++p) {
    for (std::size_t i = 0; i < work.plans[p].size(); ++i) {
      const Outcome& ack = work.acks[p][i];
      if (ack.status.ok())
        out << "ack " << p << " " << i << " " << ack.first << " " << ack.last << "\n";
    }
  }
  out << "end\n";
  out.close();
  std::_Exit(out ? 0 : 3);
}

TEST_CASE(kChildTest, "[.power_loss_child]") {
  const char* dir = std::getenv("POWER_LOSS_DATA_DIR");
  const char* nth = std::getenv("POWER_LOSS_NTH");
  const char* activity = std::getenv("POWER_LOSS_ACTIVITY");
  const char* out = std::getenv("POWER_LOSS_OUT");
  REQUIRE(dir != nullptr);
  REQUIRE(nth != nullptr);
  REQUIRE(activity != nullptr);
  REQUIRE(out != nullptr);
  RunWorkloadAndCrash(dir, std::stoull(nth), static_cast<Activity>(std::stoi(activity)), out);
}

// Runs the child for one crash point; fills `work.acks` and returns what it
// reported.
struct ChildReport {
  std::array<std::uint64_t, 4> operations{};
  std::string crash_point;
  std::vector<std::string> refused;
};

ChildReport RunChild(const TempDir& dir, std::uint64_t nth, Activity activity, Workload& work) {
  const std::string out_path = dir.Sub("child.out");
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.push_back("POWER_LOSS_DATA_DIR=" + dir.Sub("db"));
  env_strings.push_back("POWER_LOSS_NTH=" + std::to_string(nth));
  env_strings.push_back("POWER_LOSS_ACTIVITY=" + std::to_string(static_cast<int>(activity)));
  env_strings.push_back("POWER_LOSS_OUT=" + out_path);
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string self = "/proc/self/exe";
  std::string test_name = kChildTest;
  std::string quiet = "--out=" + dir.Sub("child.log");
  std::vector<char*> argv = {self.data(), test_name.data(), quiet.data(), nullptr};
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv.data(), envp.data()) == 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  INFO("child for point " << nth << " of activity " << static_cast<int>(activity) << ": "
                          << ReadFile(dir.Sub("child.log")));
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

  ChildReport report;
  std::ifstream in(out_path);
  std::string line;
  bool ended = false;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string tag;
    fields >> tag;
    if (tag == "ops") {
      for (auto& n : report.operations) fields >> n;
    } else if (tag == "point") {
      report.crash_point = line.substr(6);
    } else if (tag == "refused") {
      report.refused.push_back(line.substr(8));
    } else if (tag == "ack") {
      std::size_t p = 0, i = 0;
      Outcome ack;
      fields >> p >> i >> ack.first >> ack.last;
      REQUIRE(p < work.acks.size());
      REQUIRE(i < work.acks[p].size());
      ack.status = absl::OkStatus();
      work.acks[p][i] = ack;
    } else if (tag == "end") {
      ended = true;
    }
  }
  REQUIRE(ended);
  return report;
}

// One run: the workload in a child on a fresh ledger armed at (nth,
// activity) (nth 0: never) until it finishes or the power goes, then the
// survivors checked here on a reopened ledger.
PointResult RunCrashPoint(std::uint64_t nth, Activity activity,
                          std::array<std::uint64_t, 4>* operations = nullptr) {
  TempDir dir;
  Workload work;
  PointResult result;
  const ChildReport report = RunChild(dir, nth, activity, work);
  result.crash_point = report.crash_point;
  if (operations != nullptr) *operations = report.operations;
  INFO("crash point: " << result.crash_point);
  CHECK(report.refused == std::vector<std::string>{});

  // Checked on the simulator too, only to spare real fsyncs; it never cuts.
  ledger::PowerLossSimulator sim;
  auto reopened = ledger::Ledger::Open(Options(dir.Sub("db"), sim));
  REQUIRE(reopened.ok());
  CheckSurvivors(**reopened, work, result);
  return result;
}

TEST_CASE("a power cut loses what was not synced and keeps what was", "[ledger][power_loss]") {
  ledger::PowerLossSimulator sim;
  TempDir dir;
  ledger::LedgerOptions options = Options(dir.Sub("db"), sim);
  // Default memtables: no flush runs in the background when the power goes.
  options.memtable_bytes = 0;
  const std::vector<Request> setup = SetupPlan();
  const std::vector<Request> plan = WriterPlan(0);
  auto write_and_crash = [&] {
    auto opened = ledger::Ledger::Open(options);
    REQUIRE(opened.ok());
    for (const auto& r : setup) REQUIRE(Submit(**opened, r).status.ok());
    for (const auto& r : plan) REQUIRE(Submit(**opened, r).status.ok());
    const ledger::Position written = (*opened)->LastPosition();
    sim.Crash();
    opened->reset();
    RequireReset(sim);
    auto reopened = ledger::Ledger::Open(options);
    // The head record (LEDGER-HEAD, written and synced outside RocksDB) may
    // have seen acknowledged positions the WAL lost: DATA_LOSS, 0 survived.
    if (!reopened.ok()) {
      CHECK(reopened.status().code() == absl::StatusCode::kDataLoss);
      return std::pair{written, ledger::Position{0}};
    }
    CHECK((*reopened)->VerifyChain(1, 0).ok());
    return std::pair{written, (*reopened)->LastPosition()};
  };
  SECTION("synced before each acknowledgement: everything is there") {
    auto [written, survived] = write_and_crash();
    CHECK(survived == written);
  }
  SECTION("acknowledged without a sync (what the sweep below would catch): the tail is gone") {
    // Either the reopened log is short, or the head record names the loss
    // and the open is refused.
    options.sync = false;
    auto [written, survived] = write_and_crash();
    CHECK(written > 0);
    CHECK(survived < written);
  }
}

TEST_CASE("acknowledged writes survive power cuts in commits, flushes and compactions",
          "[ledger][power_loss][slow]") {
  const auto started = std::chrono::steady_clock::now();
  // A run to the end, crashed afterwards, counts the operations to sweep.
  std::array<std::uint64_t, 4> ops{};
  PointResult full = RunCrashPoint(0, Activity::kAny, &ops);
  const auto count = [&](Activity a) { return ops[static_cast<std::size_t>(a)]; };
  REQUIRE(count(Activity::kFlush) > 0);
  REQUIRE(count(Activity::kCompaction) > 0);
  CHECK(full.unacknowledged_absent + full.unacknowledged_whole == 0);

  // Points per activity, spread evenly over its operations (the first
  // ones too: the database's creation is in the foreground sweep).
  const std::vector<std::pair<Activity, std::uint64_t>> sweeps = {{Activity::kAny, 20},
                                                                  {Activity::kForeground, 30},
                                                                  {Activity::kFlush, 25},
                                                                  {Activity::kCompaction, 25}};
  std::map<std::string, int> by_activity;
  std::size_t points = 1;
  std::size_t acknowledged = full.acknowledged;
  std::size_t lost_unacknowledged = 0;
  std::size_t whole_unacknowledged = 0;
  for (const auto& [activity, n] : sweeps) {
    const std::uint64_t total = count(activity);
    for (std::uint64_t k = 0; k < n; ++k) {
      const std::uint64_t nth = 1 + k * total / n;
      PointResult r = RunCrashPoint(nth, activity);
      ++points;
      ++by_activity[r.crash_point.substr(0, r.crash_point.find(':'))];
      acknowledged += r.acknowledged;
      lost_unacknowledged += r.unacknowledged_absent;
      whole_unacknowledged += r.unacknowledged_whole;
    }
  }
  // The sweep really cut the power inside flushes and compactions.
  CHECK(by_activity["flush"] > 0);
  CHECK(by_activity["compaction"] > 0);
  CHECK(by_activity["foreground"] > 0);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "power loss: %zu crash points (%d foreground, %d flush, %d compaction, %d after the "
      "workload); per run %llu file operations (%llu flush, %llu compaction); %zu "
      "acknowledged requests checked, %zu unacknowledged absent, %zu unacknowledged whole; "
      "%.1f s\n",
      points, by_activity["foreground"], by_activity["flush"], by_activity["compaction"],
      by_activity["Crash()"] + 1, static_cast<unsigned long long>(count(Activity::kAny)),
      static_cast<unsigned long long>(count(Activity::kFlush)),
      static_cast<unsigned long long>(count(Activity::kCompaction)), acknowledged,
      lost_unacknowledged, whole_unacknowledged, seconds);
}

}  // namespace
}  // namespace attendance::testing
