// loadgen: pushes register marks at a running ledgerd over gRPC and reports
// throughput and latency.
//
//   loadgen --target 127.0.0.1:50051 --setup --pupils 2000 --marks 400000
//           --batch 500 --clients 4 --mode batch
//
// Every mark is a distinct (pupil, date, session): pupils are partitioned
// across clients, and each client walks its pupils session by session over
// the school days of as many academic years as the total needs (2 x 190-ish
// sessions per pupil per year), by default ending with the last complete
// academic year: the ledger refuses present marks for sessions to come. --setup first creates the
// school (settings), a calendar for each of those years and enrols the pupils; setup requests carry
// fixed request ids, so running --setup again is harmless. Marks requests carry ids unique to the
// run (--run-id), and a second run over the same school and dates is refused with ALREADY_EXISTS:
// use a fresh data directory, another --school or another --first-year.
//
// --mode batch: each client makes unary RecordMarks calls, one at a time;
//   latency is per RPC.
// --mode stream: each client opens one StreamMarks stream and keeps up to
//   --window batches in flight; latency is from sending a batch to its
//   acknowledgement.
//
// Prints a human summary and one machine-readable line starting "RESULT".
// Exit status: 0 if every batch was acknowledged, 1 on any error, 2 on bad
// flags.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <memory>
#include <mutex>
#include <semaphore>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "attendance/v1/ledger_service.grpc.pb.h"
#include "command_line/command_line.h"
#include "command_line/latency.h"
#include "ledger/types.h"

// Meanings and defaults in kUsage; --token's default is $LEDGER_TOKEN.
ABSL_FLAG(std::string, target, "127.0.0.1:50051", "ledgerd address");
ABSL_FLAG(std::string, school, "load-school", "school id");
ABSL_FLAG(int, pupils, 2000, "pupils on roll");
ABSL_FLAG(int, batch, 500, "marks per RecordMarks batch");
ABSL_FLAG(int, clients, 4, "concurrent clients");
ABSL_FLAG(std::string, mode, "batch", "batch or stream");
ABSL_FLAG(int, window, 8, "stream mode: batches in flight per stream");
ABSL_FLAG(long long, marks, 200000, "total marks to send");
ABSL_FLAG(bool, setup, false, "create the school, its calendars and enrol the pupils first");
ABSL_FLAG(int, first_year, 0, "first academic year used (0: as many as needed)");
ABSL_FLAG(std::string, run_id, "", "part of every marks request id");
ABSL_FLAG(std::string, token, "", "bearer token");
ABSL_FLAG(int, deadline, 120, "seconds each call may take");
ABSL_FLAG(long long, rate, 0, "marks per second, all clients together (0: as fast as it can)");

namespace attendance::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  std::string target = "127.0.0.1:50051";
  std::string school = "load-school";
  int pupils = 2000;
  int batch = 500;
  int clients = 4;
  std::string mode = "batch";
  long long marks = 200000;
  bool setup = false;
  int window = 8;
  int first_year = 0;  // 0 = years ending with the one before the current one
  std::string run_id;
  // Bearer token (ledgerd --tokens); default $LEDGER_TOKEN. None: a server
  // in local mode records everything as "local admin".
  std::string token;
  int deadline_s = 120;
  long long rate = 0;  // marks/s over all clients; 0 = unpaced
};

constexpr const char* kUsage = R"(usage: loadgen [flags]
  --target HOST:PORT   ledgerd address (default 127.0.0.1:50051)
  --school ID          school id (default load-school)
  --pupils N           pupils on roll (default 2000)
  --batch N            marks per RecordMarks batch, 1..10000 (default 500)
  --clients N          concurrent clients, each with its own channel (default 4)
  --mode batch|stream  unary RecordMarks, or StreamMarks with a window (default batch)
  --window N           stream mode: batches in flight per stream (default 8)
  --marks N            total marks to send (default 200000)
  --setup              create the school, its calendars and enrol the pupils first
  --first-year Y       first academic year used (default: as many as needed, ending with
                       the year before the current one, so that every session has happened)
  --run-id S           part of every marks request id (default: from the clock)
  --token T            bearer token of an attendance_officer or admin (default: $LEDGER_TOKEN)
  --deadline S         seconds each RecordMarks call may take; a stream gets ten times it
                       (default 120)
  --rate N             marks per second, all clients together: each client sends its batches
                       on a steady schedule of its share (default 0: as fast as it can)
)";

// Exits 0 on --help, 2 on bad flags (see command_line/command_line.h).
bool ParseFlags(int argc, char** argv, Flags& f) {
  constexpr std::string_view kProgram = "loadgen";
  const std::vector<std::string> rest = tools::ParseFlagsOrExit(argc, argv, kProgram, kUsage);
  if (!rest.empty()) {
    std::fprintf(stderr, "loadgen: unexpected argument %s\n%s", rest.front().c_str(), kUsage);
    return false;
  }
  auto count = [&](const auto& flag) { return tools::FlagAtLeast(kProgram, flag, 0); };
  f.target = absl::GetFlag(FLAGS_target);
  f.school = absl::GetFlag(FLAGS_school);
  f.pupils = static_cast<int>(count(FLAGS_pupils));
  f.batch = static_cast<int>(count(FLAGS_batch));
  f.clients = static_cast<int>(count(FLAGS_clients));
  f.mode = absl::GetFlag(FLAGS_mode);
  f.window = static_cast<int>(count(FLAGS_window));
  f.marks = count(FLAGS_marks);
  f.setup = absl::GetFlag(FLAGS_setup);
  f.first_year = static_cast<int>(count(FLAGS_first_year));
  f.run_id = absl::GetFlag(FLAGS_run_id);
  if (const std::string token = absl::GetFlag(FLAGS_token); !token.empty()) f.token = token;
  f.deadline_s = static_cast<int>(count(FLAGS_deadline));
  f.rate = count(FLAGS_rate);
  if (f.mode != "batch" && f.mode != "stream") {
    std::fprintf(stderr, "loadgen: --mode must be batch or stream\n");
    return false;
  }
  if (f.batch < 1 || f.batch > 10000 || f.clients < 1 || f.pupils < 1 || f.window < 1 ||
      f.marks < 1 || f.clients > f.pupils) {
    std::fprintf(stderr,
                 "loadgen: need 1 <= batch <= 10000, 1 <= clients <= pupils, window >= 1, "
                 "marks >= 1\n");
    return false;
  }
  return true;
}

// Calendar days from the vocabulary's civil dates.
using attendance::ledger::Day;
using attendance::ledger::DayFromCivil;
using attendance::ledger::FormatDate;

bool IsWeekday(Day day) { return attendance::ledger::Weekday(day) < 5; }

struct HalfTermDates {
  const char* name;
  int first_offset_year;  // 0 = the academic year's first calendar year, 1 = the next
  unsigned first_month, first_day, last_month, last_day;
};
// The same shape every year: six half-terms, about 190 weekdays.
constexpr HalfTermDates kHalfTerms[] = {
    {"Autumn 1", 0, 9, 2, 10, 23}, {"Autumn 2", 0, 11, 3, 12, 19}, {"Spring 1", 1, 1, 5, 2, 13},
    {"Spring 2", 1, 2, 23, 3, 27}, {"Summer 1", 1, 4, 13, 5, 22},  {"Summer 2", 1, 6, 1, 7, 21}};

v1::SchoolCalendarSet CalendarFor(int year) {
  v1::SchoolCalendarSet cal;
  cal.set_academic_year(year);
  const char* term_names[] = {"Autumn", "Spring", "Summer"};
  for (int t = 0; t < 3; ++t) {
    v1::Term* term = cal.add_terms();
    term->set_name(term_names[t]);
    for (int h = 0; h < 2; ++h) {
      const HalfTermDates& ht = kHalfTerms[2 * t + h];
      const int y = year + ht.first_offset_year;
      v1::HalfTerm* half = term->add_half_terms();
      half->set_name(ht.name);
      half->set_first_day(FormatDate(DayFromCivil(y, ht.first_month, ht.first_day)));
      half->set_last_day(FormatDate(DayFromCivil(y, ht.last_month, ht.last_day)));
    }
  }
  return cal;
}

std::vector<std::string> SchoolDays(int year) {
  std::vector<std::string> days;
  for (const HalfTermDates& ht : kHalfTerms) {
    const int y = year + ht.first_offset_year;
    for (Day d = DayFromCivil(y, ht.first_month, ht.first_day),
             last = DayFromCivil(y, ht.last_month, ht.last_day);
         d <= last; ++d) {
      if (IsWeekday(d)) days.push_back(FormatDate(d));
    }
  }
  return days;
}

int CurrentAcademicYear() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  const int year = tm.tm_year + 1900;
  return tm.tm_mon + 1 >= 8 ? year : year - 1;
}

// ---------------------------------------------------------------------------

std::string PupilId(int i) { return absl::StrFormat("LG%06d", i); }

void AddActor(grpc::ClientContext& ctx, const Flags& f, int deadline_s) {
  if (!f.token.empty()) ctx.AddMetadata("authorization", "Bearer " + f.token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(deadline_s));
}

std::shared_ptr<grpc::Channel> MakeChannel(const Flags& f, int client) {
  grpc::ChannelArguments args;
  // A distinct argument per client so each gets its own connection.
  args.SetInt("attendance.loadgen.client", client);
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  return grpc::CreateCustomChannel(f.target, grpc::InsecureChannelCredentials(), args);
}

bool Setup(const Flags& f, const std::vector<int>& years) {
  auto channel = MakeChannel(f, -1);
  auto stub = v1::Ledger::NewStub(channel);
  auto check = [](const grpc::Status& s, const std::string& what) {
    if (s.ok()) return true;
    std::fprintf(stderr, "loadgen: setup %s: %d %s\n", what.c_str(), s.error_code(),
                 s.error_message().c_str());
    return false;
  };
  {
    v1::SetSchoolSettingsRequest req;
    req.set_school_id(f.school);
    req.set_request_id(absl::StrCat("loadgen-", f.school, "-settings"));
    req.mutable_settings()->set_school_name(absl::StrCat("Load test school ", f.school));
    v1::WriteResponse resp;
    grpc::ClientContext ctx;
    AddActor(ctx, f, 30);
    if (!check(stub->SetSchoolSettings(&ctx, req, &resp), "SetSchoolSettings")) return false;
  }
  for (int year : years) {
    v1::SetSchoolCalendarRequest req;
    req.set_school_id(f.school);
    req.set_request_id(absl::StrCat("loadgen-", f.school, "-calendar-", year));
    *req.mutable_calendar() = CalendarFor(year);
    v1::WriteResponse resp;
    grpc::ClientContext ctx;
    AddActor(ctx, f, 30);
    if (!check(stub->SetSchoolCalendar(&ctx, req, &resp), "SetSchoolCalendar")) return false;
  }
  // Enrol from 16 threads: each EnrolPupil waits for its WAL sync, and the
  // ledger shares one sync among concurrent writes.
  const std::string on_roll_from = SchoolDays(years.front()).front();
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  std::atomic<int> already{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < f.pupils && !failed; i = next++) {
        v1::EnrolPupilRequest req;
        req.set_school_id(f.school);
        req.set_request_id(absl::StrCat("loadgen-", f.school, "-enrol-", PupilId(i)));
        v1::Pupil* p = req.mutable_pupil();
        p->set_pupil_id(PupilId(i));
        p->set_given_name("Pupil");
        p->set_family_name(absl::StrCat("Number ", i));
        p->set_year_group(i % 7);
        p->set_class_name(absl::StrCat("Class ", i % 14));
        p->set_sex(i % 2 ? v1::FEMALE : v1::MALE);
        req.set_on_roll_from(on_roll_from);
        v1::WriteResponse resp;
        grpc::ClientContext ctx;
        AddActor(ctx, f, 30);
        const grpc::Status s = stub->EnrolPupil(&ctx, req, &resp);
        // A pupil enrolled by an earlier setup (another --first-year) is
        // already on roll: fine as long as the earlier roll date comes first.
        if (s.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
          ++already;
        } else if (!check(s, "EnrolPupil " + PupilId(i))) {
          failed = true;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  if (already > 0) std::printf("setup: %d pupils were already enrolled\n", already.load());
  return !failed;
}

// One client's work, built before the clock starts.
struct ClientWork {
  std::vector<v1::RecordMarksRequest> batches;
  long long marks = 0;
};

ClientWork BuildWork(const Flags& f, int client, long long marks,
                     const std::vector<std::string>& days) {
  ClientWork work;
  const int first = static_cast<int>(static_cast<long long>(f.pupils) * client / f.clients);
  const int last = static_cast<int>(static_cast<long long>(f.pupils) * (client + 1) / f.clients);
  const std::string run = absl::StrCat("lg-", f.school, "-", f.run_id, "-c", client, "-b");
  v1::RecordMarksRequest* req = nullptr;
  long long made = 0;
  for (size_t d = 0; d < days.size() && made < marks; ++d) {
    for (v1::Session session : {v1::AM, v1::PM}) {
      for (int p = first; p < last && made < marks; ++p) {
        if (req == nullptr || req->marks_size() == f.batch) {
          req = &work.batches.emplace_back();
          req->set_school_id(f.school);
          req->set_request_id(absl::StrCat(run, work.batches.size() - 1));
        }
        v1::Mark* m = req->add_marks();
        m->set_pupil_id(PupilId(p));
        m->set_date(days[d]);
        m->set_session(session);
        // Mostly present, with the odd illness and late mark.
        const int r = (p * 31 + static_cast<int>(d) * 7 + session) % 50;
        if (r == 0) {
          m->set_code("I");
        } else if (r == 1 && session == v1::AM) {
          m->set_code("L");
          m->set_minutes_late(10);
        } else {
          m->set_code(session == v1::AM ? "/" : "\\");
        }
        ++made;
      }
    }
  }
  work.marks = made;
  return work;
}

struct ClientResult {
  std::vector<double> latencies_ms;
  long long acked_marks = 0;
  long long errors = 0;
  std::string first_error;
};

using tools::Ms;
using tools::Percentile;

void NoteError(ClientResult& r, const std::string& what) {
  if (r.errors++ == 0) r.first_error = what;
}

// With --rate: holds a client to its share of the rate, sending the batch
// that starts at its `sent`-th mark no earlier than sent / share seconds
// after `start` (a steady load, not bursts; a client that falls behind
// catches up as fast as it can).
void Pace(const Flags& f, Clock::time_point start, long long sent) {
  if (f.rate <= 0) return;
  const double share = static_cast<double>(f.rate) / f.clients;
  std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(sent / share)));
}

void RunBatch(const Flags& f, int client, const ClientWork& work, ClientResult& result) {
  auto stub = v1::Ledger::NewStub(MakeChannel(f, client));
  const auto paced_from = Clock::now();
  long long sent = 0;
  for (const v1::RecordMarksRequest& req : work.batches) {
    Pace(f, paced_from, sent);
    sent += req.marks_size();
    grpc::ClientContext ctx;
    AddActor(ctx, f, f.deadline_s);
    v1::RecordMarksResponse resp;
    const auto start = Clock::now();
    const grpc::Status s = stub->RecordMarks(&ctx, req, &resp);
    result.latencies_ms.push_back(Ms(Clock::now() - start));
    if (s.ok()) {
      result.acked_marks += resp.recorded();
    } else {
      NoteError(result,
                absl::StrCat(req.request_id(), ": ", s.error_code(), " ", s.error_message()));
    }
  }
}

void RunStream(const Flags& f, int client, const ClientWork& work, ClientResult& result) {
  auto stub = v1::Ledger::NewStub(MakeChannel(f, client));
  grpc::ClientContext ctx;
  AddActor(ctx, f, f.deadline_s * 10);
  auto stream = stub->StreamMarks(&ctx);
  std::counting_semaphore<1 << 20> window(f.window);
  std::mutex mu;
  std::deque<Clock::time_point> sent;  // send times of batches in flight, in order
  std::thread writer([&] {
    const auto paced_from = Clock::now();
    long long marks_sent = 0;
    for (const v1::RecordMarksRequest& req : work.batches) {
      Pace(f, paced_from, marks_sent);
      marks_sent += req.marks_size();
      window.acquire();
      {
        std::lock_guard<std::mutex> lock(mu);
        sent.push_back(Clock::now());
      }
      if (!stream->Write(req)) break;  // the stream is broken; Finish says why
    }
    stream->WritesDone();
  });
  v1::StreamMarksResponse resp;
  size_t received = 0;
  while (stream->Read(&resp)) {
    Clock::time_point start;
    {
      std::lock_guard<std::mutex> lock(mu);
      start = sent.front();
      sent.pop_front();
    }
    result.latencies_ms.push_back(Ms(Clock::now() - start));
    window.release();
    ++received;
    if (resp.error_code() == 0) {
      result.acked_marks += resp.result().recorded();
    } else {
      NoteError(result, absl::StrCat(resp.request_id(), ": ", resp.error_code(), " ",
                                     resp.error_message()));
    }
  }
  // Unblock the writer if the stream ended early.
  window.release(static_cast<std::ptrdiff_t>(std::min<size_t>(work.batches.size(), 1 << 19)));
  writer.join();
  const grpc::Status s = stream->Finish();
  if (!s.ok()) {
    NoteError(result, absl::StrCat("StreamMarks: ", s.error_code(), " ", s.error_message()));
  }
  if (received < work.batches.size()) {
    NoteError(result, absl::StrCat("StreamMarks: only ", received, " of ", work.batches.size(),
                                   " batches answered"));
  }
}

int Main(int argc, char** argv) {
  Flags f;
  if (const char* token = std::getenv("LEDGER_TOKEN")) f.token = token;
  if (!ParseFlags(argc, argv, f)) return 2;
  if (f.run_id.empty()) {
    f.run_id = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
  }
  // As many academic years as the total needs; each client gets an equal
  // share of the marks and of the pupils. By default the years end with the
  // last complete one, so that every register sent has happened (the ledger
  // refuses present marks for sessions that have not begun).
  std::vector<int> years;
  std::vector<std::string> days;
  const long long per_client_pupils_min = f.pupils / f.clients;
  const long long per_client_marks = (f.marks + f.clients - 1) / f.clients;
  std::size_t day_count = 0;
  while (static_cast<long long>(day_count) * 2 * per_client_pupils_min < per_client_marks) {
    const int year = f.first_year != 0 ? f.first_year + static_cast<int>(years.size())
                                       : CurrentAcademicYear() - 1 - static_cast<int>(years.size());
    years.push_back(year);
    day_count += SchoolDays(year).size();
    if (years.size() > 50) {
      std::fprintf(stderr, "loadgen: --marks needs more than 50 academic years; add pupils\n");
      return 2;
    }
  }
  std::sort(years.begin(), years.end());
  for (int year : years) {
    for (std::string& d : SchoolDays(year)) days.push_back(std::move(d));
  }

  if (f.setup) {
    const auto start = Clock::now();
    if (!Setup(f, years)) return 1;
    std::printf("setup: school %s, calendars %d-%d, %d pupils enrolled in %.1f s\n",
                f.school.c_str(), years.front(), years.back(), f.pupils,
                Ms(Clock::now() - start) / 1000);
  }

  std::vector<ClientWork> work(static_cast<size_t>(f.clients));
  long long remaining = f.marks;
  for (int c = 0; c < f.clients; ++c) {
    const long long share = std::min(remaining, per_client_marks);
    work[static_cast<size_t>(c)] = BuildWork(f, c, share, days);
    remaining -= work[static_cast<size_t>(c)].marks;
  }

  std::vector<ClientResult> results(static_cast<size_t>(f.clients));
  const auto start = Clock::now();
  {
    std::vector<std::thread> threads;
    for (int c = 0; c < f.clients; ++c) {
      threads.emplace_back([&, c] {
        const auto i = static_cast<size_t>(c);
        if (f.mode == "batch") {
          RunBatch(f, c, work[i], results[i]);
        } else {
          RunStream(f, c, work[i], results[i]);
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  const double seconds = Ms(Clock::now() - start) / 1000;

  std::vector<double> latencies;
  long long acked = 0, errors = 0, batches = 0;
  std::string first_error;
  for (const ClientResult& r : results) {
    latencies.insert(latencies.end(), r.latencies_ms.begin(), r.latencies_ms.end());
    acked += r.acked_marks;
    errors += r.errors;
    if (first_error.empty()) first_error = r.first_error;
  }
  for (const ClientWork& w : work) batches += static_cast<long long>(w.batches.size());
  std::sort(latencies.begin(), latencies.end());
  const double rate = seconds > 0 ? static_cast<double>(acked) / seconds : 0;
  const char* unit = f.mode == "batch" ? "per RPC" : "per acknowledged batch";
  std::printf(
      "%s: %lld marks acknowledged in %lld batches of <= %d by %d clients in %.2f s: "
      "%.0f marks/s\n",
      f.mode.c_str(), acked, batches, f.batch, f.clients, seconds, rate);
  std::printf("latency %s (ms): p50 %.2f  p95 %.2f  p99 %.2f  max %.2f\n", unit,
              Percentile(latencies, 0.50), Percentile(latencies, 0.95), Percentile(latencies, 0.99),
              latencies.empty() ? 0 : latencies.back());
  if (errors > 0) std::printf("errors: %lld, first: %s\n", errors, first_error.c_str());
  std::printf(
      "RESULT mode=%s clients=%d batch=%d window=%d marks=%lld seconds=%.3f "
      "marks_per_s=%.0f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%lld "
      "target_rate=%lld\n",
      f.mode.c_str(), f.clients, f.batch, f.mode == "stream" ? f.window : 1, acked, seconds, rate,
      Percentile(latencies, 0.50), Percentile(latencies, 0.95), Percentile(latencies, 0.99),
      latencies.empty() ? 0 : latencies.back(), errors, f.rate);
  return errors == 0 && acked == f.marks ? 0 : 1;
}

}  // namespace
}  // namespace attendance::loadgen

int main(int argc, char** argv) { return attendance::loadgen::Main(argc, argv); }
