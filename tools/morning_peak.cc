// morning-peak: a morning's AM registers arriving at a running ledgerd, as
// class registers of 30 marks over a short window, with subscribers
// following the log; reports register-submission latency.
//
//   morning-peak --target 127.0.0.1:50051 --pupils 100000 --school-size 1000
//                --seconds 600 --subscribers 3
//
// Sets up --pupils / --school-size schools (settings, a calendar for this
// academic year and the last, every pupil enrolled), then sends each
// school's AM register for the last school day before today, one
// RecordMarks of --class-size marks per class. Registers arrive at random
// (a Poisson process, --seed) over --seconds and each goes to the first free
// of --workers callers, so the latency, from a register's arrival to its
// acknowledgement, includes any queueing: a late server shows as late
// registers, not as fewer of them. --subscribers Feeds.SubscribeEvents calls
// (every school, from now) read throughout; their delivery lag (an event's
// recorded_at to its arrival) is reported too. ledgerd's read models run as
// they always do. Prints a human summary and one line starting "RESULT".
// Exit 0 if every register was acknowledged, 1 otherwise, 2 on bad flags.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>
#include <queue>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "attendance/v1/feeds_service.grpc.pb.h"
#include "attendance/v1/ledger_service.grpc.pb.h"
#include "command_line/command_line.h"
#include "command_line/latency.h"
#include "ledger/types.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "ledgerd address");
ABSL_FLAG(int, pupils, 10000, "pupils in all");
ABSL_FLAG(int, school_size, 1000, "pupils per school");
ABSL_FLAG(int, class_size, 30, "marks per register");
ABSL_FLAG(int, seconds, 60, "window the registers arrive in");
ABSL_FLAG(int, workers, 64, "concurrent callers");
ABSL_FLAG(int, subscribers, 3, "SubscribeEvents calls following the log");
ABSL_FLAG(int, seed, 1, "arrival order and times");
ABSL_FLAG(std::string, token, "", "bearer token");

namespace attendance::morning_peak {
namespace {

using Clock = std::chrono::steady_clock;
using ledger::Day;

constexpr const char* kUsage = R"(usage: morning-peak [flags]
  --target HOST:PORT  ledgerd address (default 127.0.0.1:50051)
  --pupils N          pupils in all (default 10000)
  --school-size N     pupils per school (default 1000)
  --class-size N      marks per register (default 30)
  --seconds S         window the registers arrive in (default 60)
  --workers N         concurrent callers (default 64)
  --subscribers N     SubscribeEvents calls following the log (default 3)
  --seed N            arrival order and times (default 1)
  --token T           bearer token of an admin (default: $LEDGER_TOKEN)
)";

struct Flags {
  std::string target, token;
  int pupils = 0, school_size = 0, class_size = 0, seconds = 0, workers = 0, subscribers = 0;
  int seed = 0;
};

using tools::Ms;
using tools::Percentile;

// loadgen's calendar shape: six half-terms, about 190 weekdays.
struct HalfTermDates {
  const char* name;
  int offset_year;
  unsigned first_month, first_day, last_month, last_day;
};
constexpr HalfTermDates kHalfTerms[] = {
    {"Autumn 1", 0, 9, 2, 10, 23}, {"Autumn 2", 0, 11, 3, 12, 19}, {"Spring 1", 1, 1, 5, 2, 13},
    {"Spring 2", 1, 2, 23, 3, 27}, {"Summer 1", 1, 4, 13, 5, 22},  {"Summer 2", 1, 6, 1, 7, 21}};

v1::SchoolCalendarSet CalendarFor(int year) {
  v1::SchoolCalendarSet cal;
  cal.set_academic_year(year);
  for (int t = 0; t < 3; ++t) {
    v1::Term* term = cal.add_terms();
    term->set_name(std::array{"Autumn", "Spring", "Summer"}[t]);
    for (int h = 0; h < 2; ++h) {
      const HalfTermDates& ht = kHalfTerms[2 * t + h];
      v1::HalfTerm* half = term->add_half_terms();
      half->set_name(ht.name);
      half->set_first_day(ledger::FormatDate(
          ledger::DayFromCivil(year + ht.offset_year, ht.first_month, ht.first_day)));
      half->set_last_day(ledger::FormatDate(
          ledger::DayFromCivil(year + ht.offset_year, ht.last_month, ht.last_day)));
    }
  }
  return cal;
}

// The last school day before today in this academic year's or last year's
// calendar: its AM session has happened, so present marks are accepted.
std::string LastSchoolDay(int this_year) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  const Day today = ledger::DayFromCivil(tm.tm_year + 1900, static_cast<unsigned>(tm.tm_mon + 1),
                                         static_cast<unsigned>(tm.tm_mday));
  Day best = ledger::DayFromCivil(this_year - 1, 9, 2);
  for (int year : {this_year - 1, this_year}) {
    for (const HalfTermDates& ht : kHalfTerms) {
      for (Day d = ledger::DayFromCivil(year + ht.offset_year, ht.first_month, ht.first_day),
               last = ledger::DayFromCivil(year + ht.offset_year, ht.last_month, ht.last_day);
           d <= last && d < today; ++d) {
        if (ledger::Weekday(d) < 5) best = std::max(best, d);
      }
    }
  }
  return ledger::FormatDate(best);
}

int CurrentAcademicYear() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  return tm.tm_mon + 1 >= 8 ? tm.tm_year + 1900 : tm.tm_year + 1899;
}

std::string SchoolId(int s) { return absl::StrFormat("peak-%04d", s); }
std::string PupilId(int i) { return absl::StrFormat("MP%07d", i); }

std::shared_ptr<grpc::Channel> MakeChannel(const Flags& f, int n) {
  grpc::ChannelArguments args;
  args.SetInt("attendance.morning_peak.channel", n);  // a connection of its own
  return grpc::CreateCustomChannel(f.target, grpc::InsecureChannelCredentials(), args);
}

void AddActor(grpc::ClientContext& ctx, const Flags& f, int deadline_s) {
  if (!f.token.empty()) ctx.AddMetadata("authorization", "Bearer " + f.token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(deadline_s));
}

bool Setup(const Flags& f, int schools, int year, const std::string& on_roll_from) {
  auto stub = v1::Ledger::NewStub(MakeChannel(f, -1));
  auto ok = [](const grpc::Status& s, const std::string& what) {
    if (s.ok() || s.error_code() == grpc::StatusCode::ALREADY_EXISTS) return true;
    std::fprintf(stderr, "morning-peak: %s: %d %s\n", what.c_str(), s.error_code(),
                 s.error_message().c_str());
    return false;
  };
  for (int s = 0; s < schools; ++s) {
    v1::SetSchoolSettingsRequest settings;
    settings.set_school_id(SchoolId(s));
    settings.set_request_id(SchoolId(s) + "-settings");
    settings.mutable_settings()->set_school_name("Morning peak " + SchoolId(s));
    v1::WriteResponse resp;
    grpc::ClientContext ctx;
    AddActor(ctx, f, 30);
    if (!ok(stub->SetSchoolSettings(&ctx, settings, &resp), "SetSchoolSettings")) return false;
    for (int y : {year - 1, year}) {
      v1::SetSchoolCalendarRequest cal;
      cal.set_school_id(SchoolId(s));
      cal.set_request_id(absl::StrCat(SchoolId(s), "-calendar-", y));
      *cal.mutable_calendar() = CalendarFor(y);
      grpc::ClientContext cal_ctx;
      AddActor(cal_ctx, f, 30);
      if (!ok(stub->SetSchoolCalendar(&cal_ctx, cal, &resp), "SetSchoolCalendar")) return false;
    }
  }
  // Concurrent enrolments share the ledger's WAL syncs.
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 32; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < f.pupils && !failed; i = next++) {
        v1::EnrolPupilRequest req;
        req.set_school_id(SchoolId(i / f.school_size));
        req.set_request_id("enrol-" + PupilId(i));
        v1::Pupil* p = req.mutable_pupil();
        p->set_pupil_id(PupilId(i));
        p->set_given_name("Pupil");
        p->set_family_name(absl::StrCat("Number ", i));
        p->set_year_group(i % f.school_size / f.class_size % 7);
        p->set_class_name(absl::StrCat("Class ", i % f.school_size / f.class_size));
        req.set_on_roll_from(on_roll_from);
        v1::WriteResponse resp;
        grpc::ClientContext ctx;
        AddActor(ctx, f, 30);
        if (!ok(stub->EnrolPupil(&ctx, req, &resp), "EnrolPupil " + PupilId(i))) failed = true;
      }
    });
  }
  for (auto& t : threads) t.join();
  return !failed;
}

// Follows the log from now on, noting each event's delivery lag.
class Subscriber {
 public:
  Subscriber(const Flags& f, int n) : stub_(v1::Feeds::NewStub(MakeChannel(f, 10000 + n))) {
    if (!f.token.empty()) ctx_.AddMetadata("authorization", "Bearer " + f.token);
    v1::SubscribeEventsRequest req;
    req.set_from_now(true);
    reader_ = stub_->SubscribeEvents(&ctx_, req);
    thread_ = std::thread([this] { Read(); });
  }
  ~Subscriber() {
    ctx_.TryCancel();
    thread_.join();
  }
  long long events() const { return events_; }
  bool started() const { return started_; }
  std::vector<double> LagsMs() {
    std::lock_guard<std::mutex> lock(mu_);
    return lags_ms_;
  }

 private:
  void Read() {
    v1::SubscribeEventsResponse msg;
    while (reader_->Read(&msg)) {
      started_ = true;
      const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
      std::lock_guard<std::mutex> lock(mu_);
      for (const v1::EventEnvelope& e : msg.events()) {
        lags_ms_.push_back(static_cast<double>(now_us - e.recorded_at_us()) / 1000);
      }
      events_ += msg.events_size();
    }
    reader_->Finish().IgnoreError();
  }

  std::unique_ptr<v1::Feeds::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<v1::SubscribeEventsResponse>> reader_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<double> lags_ms_;
  std::atomic<long long> events_{0};
  std::atomic<bool> started_{false};
};

int Main(int argc, char** argv) {
  constexpr std::string_view kProgram = "morning-peak";
  if (!tools::ParseFlagsOrExit(argc, argv, kProgram, kUsage).empty()) {
    tools::ExitBadUsage(kProgram, "unexpected argument");
  }
  auto at_least = [&](const auto& flag, int min) {
    return static_cast<int>(tools::FlagAtLeast(kProgram, flag, min));
  };
  Flags f;
  f.target = absl::GetFlag(FLAGS_target);
  f.token = absl::GetFlag(FLAGS_token);
  if (const char* token = std::getenv("LEDGER_TOKEN"); f.token.empty() && token) f.token = token;
  f.pupils = at_least(FLAGS_pupils, 1);
  f.school_size = at_least(FLAGS_school_size, 1);
  f.class_size = at_least(FLAGS_class_size, 1);
  f.seconds = at_least(FLAGS_seconds, 1);
  f.workers = at_least(FLAGS_workers, 1);
  f.subscribers = at_least(FLAGS_subscribers, 0);
  f.seed = absl::GetFlag(FLAGS_seed);

  const int year = CurrentAcademicYear();
  const std::string day = LastSchoolDay(year);
  const int schools = (f.pupils + f.school_size - 1) / f.school_size;
  const auto setup_start = Clock::now();
  if (!Setup(f, schools, year, ledger::FormatDate(ledger::DayFromCivil(year - 1, 9, 2)))) return 1;
  std::printf("setup: %d schools, %d pupils in %.1f s; registers for the AM of %s\n", schools,
              f.pupils, Ms(Clock::now() - setup_start) / 1000, day.c_str());

  // The registers, in a random order, and their arrival times.
  const std::string run = std::to_string(std::time(nullptr));
  std::vector<v1::RecordMarksRequest> registers;
  for (int first = 0; first < f.pupils; first += f.class_size) {
    const int school = first / f.school_size;
    const int end = std::min({first + f.class_size, f.pupils, (school + 1) * f.school_size});
    v1::RecordMarksRequest& req = registers.emplace_back();
    req.set_school_id(SchoolId(school));
    req.set_request_id(absl::StrCat("peak-", run, "-", first));
    for (int p = first; p < end; ++p) {
      v1::Mark* m = req.add_marks();
      m->set_pupil_id(PupilId(p));
      m->set_date(day);
      m->set_session(v1::AM);
      m->set_code(p % 20 == 0 ? "I" : "/");
    }
    if (end < first + f.class_size) first = end - f.class_size;  // the school's last class
  }
  std::mt19937_64 rng(static_cast<uint64_t>(f.seed));
  std::shuffle(registers.begin(), registers.end(), rng);
  std::exponential_distribution<double> gap(1.0);
  std::vector<double> arrival_s;
  double t = 0;
  for (size_t i = 0; i < registers.size(); ++i) arrival_s.push_back(t += gap(rng));
  const double scale = f.seconds / (t + gap(rng));
  for (double& a : arrival_s) a *= scale;

  std::vector<std::unique_ptr<Subscriber>> subscribers;
  for (int s = 0; s < f.subscribers; ++s) subscribers.push_back(std::make_unique<Subscriber>(f, s));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the calls are open

  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int c = 0; c < std::min(f.workers, 8); ++c) {
    channels.push_back(MakeChannel(f, c));
    // Connected before the clock starts, as a school's clients would be.
    channels.back()->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10));
  }
  std::mutex mu;
  std::condition_variable cv;
  std::queue<size_t> arrived;
  bool done = false;
  std::vector<double> latency_ms(registers.size());
  std::atomic<long long> acked{0}, errors{0};
  std::string first_error;
  const auto start = Clock::now();
  auto due = [&](size_t i) {
    return start +
           std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(arrival_s[i]));
  };
  std::vector<std::thread> workers;
  for (int w = 0; w < f.workers; ++w) {
    workers.emplace_back([&, w] {
      auto stub = v1::Ledger::NewStub(channels[static_cast<size_t>(w) % channels.size()]);
      for (;;) {
        size_t i;
        {
          std::unique_lock<std::mutex> lock(mu);
          cv.wait(lock, [&] { return done || !arrived.empty(); });
          if (arrived.empty()) return;
          i = arrived.front();
          arrived.pop();
        }
        grpc::ClientContext ctx;
        AddActor(ctx, f, 60);
        v1::RecordMarksResponse resp;
        const grpc::Status s = stub->RecordMarks(&ctx, registers[i], &resp);
        latency_ms[i] = Ms(Clock::now() - due(i));
        if (s.ok()) {
          acked += resp.recorded();
        } else if (errors++ == 0) {
          std::lock_guard<std::mutex> lock(mu);
          first_error = absl::StrCat(s.error_code(), " ", s.error_message());
        }
      }
    });
  }
  for (size_t i = 0; i < registers.size(); ++i) {
    std::this_thread::sleep_until(due(i));
    std::lock_guard<std::mutex> lock(mu);
    arrived.push(i);
    cv.notify_one();
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    cv.notify_all();
  }
  for (auto& w : workers) w.join();
  const double seconds = Ms(Clock::now() - start) / 1000;

  // Let the subscribers catch up with the last registers (10 s at most).
  for (int i = 0; i < 100; ++i) {
    bool all = true;
    for (auto& s : subscribers) all = all && s->events() >= acked;
    if (all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::vector<double> lags;
  long long delivered = 0;
  for (auto& s : subscribers) {
    const std::vector<double> l = s->LagsMs();
    lags.insert(lags.end(), l.begin(), l.end());
    delivered += s->events();
  }
  subscribers.clear();

  std::printf(
      "peak: %zu registers (%lld marks) over %.1f s from %d workers; submission latency (ms) "
      "p50 %.2f p95 %.2f p99 %.2f max %.2f\n",
      registers.size(), acked.load(), seconds, f.workers, Percentile(latency_ms, 0.5),
      Percentile(latency_ms, 0.95), Percentile(latency_ms, 0.99), Percentile(latency_ms, 1.0));
  std::printf("subscribers: %d received %lld events; delivery lag (ms) p50 %.1f p99 %.1f\n",
              f.subscribers, delivered, Percentile(lags, 0.5), Percentile(lags, 0.99));
  if (errors > 0) std::printf("errors: %lld, first: %s\n", errors.load(), first_error.c_str());
  std::printf(
      "RESULT mode=peak registers=%zu marks=%lld seconds=%.3f p50_ms=%.2f p95_ms=%.2f "
      "p99_ms=%.2f max_ms=%.2f subscribers=%d delivered=%lld feed_p50_ms=%.1f "
      "feed_p99_ms=%.1f errors=%lld\n",
      registers.size(), acked.load(), seconds, Percentile(latency_ms, 0.5),
      Percentile(latency_ms, 0.95), Percentile(latency_ms, 0.99), Percentile(latency_ms, 1.0),
      f.subscribers, delivered, Percentile(lags, 0.5), Percentile(lags, 0.99), errors.load());
  return errors == 0 && acked == f.pupils ? 0 : 1;
}

}  // namespace
}  // namespace attendance::morning_peak

int main(int argc, char** argv) { return attendance::morning_peak::Main(argc, argv); }
