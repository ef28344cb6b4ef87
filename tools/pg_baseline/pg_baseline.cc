// pg-baseline: the benchmark table's baseline, a register system built the
// usual way: PostgreSQL with an append-only `events` table, each batch of
// marks one transaction, synchronous_commit on (what tools/bench_all.sh
// compares ledgerd with; the cluster is the script's).
//
//   pg-baseline --conninfo "host=/tmp/pg dbname=postgres" --mode ingest
//               --marks 400000 --batch 500 --clients 4 --pupils 2000
//
// --mode setup   (re)creates the schema: events (seq bigserial primary key,
//                recorded_at, school, pupil, date, session, code, minutes
//                late, actor, request id) with an index on (school, pupil,
//                date, session) to find a pupil's marks, and requests
//                (request_id primary key) so that a repeated batch is
//                refused, as ledgerd refuses a repeated request id.
// --mode ingest  --clients connections, each inserting its own pupils' marks
//                session by session, --batch rows per statement (one
//                transaction: the request row and the marks together),
//                one statement at a time; latency per statement.
// --mode peak    --registers class registers of --batch marks arriving at
//                random (Poisson) over --seconds, each sent by the first free
//                of --clients connections; latency from the register's
//                arrival time to its commit, so that queueing counts.
// --mode scan    reads the whole table in order (COPY ... TO STDOUT), as a
//                read model's rebuild from the log would.
// --mode query   --queries times: one pupil's marks counted by code, a
//                school's cohort table (per pupil: sessions, absences), and a
//                mark's history (its session's events in order); --marks
//                says how many days of marks to pick from.
// Prints a human summary and one line starting "RESULT". Exit 0 on success,
// 1 on a database error, 2 on bad flags.
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <latch>
#include <mutex>
#include <queue>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "command_line/command_line.h"
#include "command_line/latency.h"

ABSL_FLAG(std::string, conninfo, "", "libpq connection string");
ABSL_FLAG(std::string, mode, "ingest", "setup, ingest, peak, scan or query");
ABSL_FLAG(std::string, school, "pg-school", "school id of the rows");
ABSL_FLAG(int, pupils, 2000, "pupils (ingest, query)");
ABSL_FLAG(long long, marks, 400000, "ingest: marks in all");
ABSL_FLAG(int, batch, 500, "marks per statement");
ABSL_FLAG(int, clients, 4, "connections");
ABSL_FLAG(int, registers, 667, "peak: class registers");
ABSL_FLAG(int, seconds, 60, "peak: the window the registers arrive in");
ABSL_FLAG(int, queries, 200, "query: queries of each kind");
ABSL_FLAG(int, seed, 1, "peak: arrival times and pupils");

namespace attendance::pg_baseline {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kUsage = R"(usage: pg-baseline --conninfo STR --mode MODE [flags]
  --mode setup|ingest|peak|scan|query   (default ingest; see the file's header)
  --school ID      school id of the rows (default pg-school)
  --pupils N       pupils (default 2000)
  --marks N        ingest: marks in all (default 400000)
  --batch N        marks per statement, one transaction each (default 500)
  --clients N      connections (default 4)
  --registers N    peak: class registers (default 667)
  --seconds S      peak: window the registers arrive in (default 60)
  --queries N      query: queries of each kind (default 200)
  --seed N         peak: arrival times (default 1)
)";

constexpr const char* kSchema = R"(
DROP TABLE IF EXISTS events, requests;
CREATE TABLE requests (request_id text PRIMARY KEY, recorded_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE events (
  seq bigserial PRIMARY KEY,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  school_id text NOT NULL, pupil_id text NOT NULL, date date NOT NULL, session smallint NOT NULL,
  code text NOT NULL, minutes_late int NOT NULL DEFAULT 0,
  actor text NOT NULL, request_id text NOT NULL);
CREATE INDEX events_by_mark ON events (school_id, pupil_id, date, session);
)";

// One statement, so one transaction: the request row, then the marks from
// arrays (one prepared statement serves every batch size).
constexpr const char* kInsert = R"(
WITH request AS (INSERT INTO requests (request_id) VALUES ($1))
INSERT INTO events (school_id, pupil_id, date, session, code, minutes_late, actor, request_id)
SELECT $2, p, d, s, c, 0, 'bench', $1
FROM unnest($3::text[], $4::date[], $5::smallint[], $6::text[]) AS m(p, d, s, c))";

struct Flags {
  std::string conninfo, mode, school;
  int pupils = 0, batch = 0, clients = 0, registers = 0, seconds = 0, queries = 0, seed = 0;
  long long marks = 0;
};

using tools::Ms;
using tools::Percentile;

// A connection; exits 1 with the server's message on failure (a benchmark
// has nothing to recover).
class Connection {
 public:
  explicit Connection(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) Fail("connect");
  }
  ~Connection() { PQfinish(conn_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void Exec(const char* sql) { Check(PQexec(conn_, sql), "exec"); }
  void Prepare(const char* name, const char* sql) {
    Check(PQprepare(conn_, name, sql, 0, nullptr), "prepare");
  }
  // Runs a prepared statement with text parameters; returns its row count.
  int Run(const char* name, const std::vector<std::string>& params) {
    std::vector<const char*> values;
    for (const std::string& p : params) values.push_back(p.c_str());
    PGresult* r = PQexecPrepared(conn_, name, static_cast<int>(values.size()), values.data(),
                                 nullptr, nullptr, 0);
    const int rows = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : 0;
    Check(r, name);
    return rows;
  }
  // COPY (sql) TO STDOUT; returns the bytes and rows received.
  std::pair<long long, long long> CopyOut(const std::string& sql) {
    PGresult* r = PQexec(conn_, absl::StrCat("COPY (", sql, ") TO STDOUT").c_str());
    if (PQresultStatus(r) != PGRES_COPY_OUT) Check(r, "copy");
    PQclear(r);
    long long bytes = 0, rows = 0;
    char* buffer = nullptr;
    for (int n; (n = PQgetCopyData(conn_, &buffer, 0)) > 0; PQfreemem(buffer)) {
      bytes += n;
      ++rows;
    }
    Check(PQgetResult(conn_), "copy end");
    return {bytes, rows};
  }

 private:
  [[noreturn]] void Fail(const char* what) {
    std::fprintf(stderr, "pg-baseline: %s: %s", what, PQerrorMessage(conn_));
    std::exit(1);
  }
  void Check(PGresult* r, const char* what) {
    const ExecStatusType s = PQresultStatus(r);
    PQclear(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_COPY_OUT) Fail(what);
  }
  PGconn* conn_;
};

std::string PupilId(int i) { return absl::StrFormat("LG%06d", i); }

// The n-th weekday from Monday 4 September 2000 on, as YYYY-MM-DD (the
// baseline checks no calendar, so any weekday is a school day).
std::string SchoolDay(int n) {
  const std::chrono::sys_days first{std::chrono::year{2000} / 9 / 4};
  const std::chrono::sys_days day = first + std::chrono::days{n / 5 * 7 + n % 5};
  const std::chrono::year_month_day ymd{day};
  return absl::StrFormat("%04d-%02u-%02u", static_cast<int>(ymd.year()),
                         static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

// The four array parameters of kInsert, built as the marks are added.
struct Batch {
  std::string pupils = "{", dates = "{", sessions = "{", codes = "{";
  int size = 0;
  void Add(const std::string& pupil, const std::string& date, int session, const char* code) {
    const char* sep = size++ ? "," : "";
    absl::StrAppend(&pupils, sep, pupil);
    absl::StrAppend(&dates, sep, date);
    absl::StrAppend(&sessions, sep, session);
    // Quoted, and a backslash (the PM present code) escaped, in an array literal.
    absl::StrAppend(&codes, sep, "\"", std::string_view(code) == "\\" ? "\\\\" : code, "\"");
  }
  std::vector<std::string> Params(const std::string& request_id, const std::string& school) const {
    return {request_id, school, pupils + "}", dates + "}", sessions + "}", codes + "}"};
  }
};

const char* CodeFor(int pupil, int session_index) {
  const int r = (pupil * 31 + session_index * 7) % 50;
  return r == 0 ? "I" : (session_index % 2 ? "\\" : "/");
}

void PrintResult(const Flags& f, long long marks, double seconds, const std::vector<double>& lat) {
  std::printf("%s: %lld marks in %.2f s: %.0f marks/s; latency (ms) p50 %.2f p99 %.2f max %.2f\n",
              f.mode.c_str(), marks, seconds, marks / seconds, Percentile(lat, 0.5),
              Percentile(lat, 0.99), Percentile(lat, 1.0));
  std::printf(
      "RESULT mode=%s clients=%d batch=%d marks=%lld seconds=%.3f marks_per_s=%.0f p50_ms=%.2f "
      "p95_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
      f.mode.c_str(), f.clients, f.batch, marks, seconds, marks / seconds, Percentile(lat, 0.5),
      Percentile(lat, 0.95), Percentile(lat, 0.99), Percentile(lat, 1.0));
}

int Ingest(const Flags& f) {
  // Each client's batches are built before the clock starts, as loadgen's are.
  std::vector<std::vector<std::vector<std::string>>> work(static_cast<size_t>(f.clients));
  const std::string run =
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  for (int c = 0; c < f.clients; ++c) {
    const int first = f.pupils * c / f.clients, last = f.pupils * (c + 1) / f.clients;
    const long long share = f.marks * (c + 1) / f.clients - f.marks * c / f.clients;
    Batch batch;
    for (long long i = 0; i < share; ++i) {
      const int pupil = first + static_cast<int>(i % (last - first));
      const int session_index = static_cast<int>(i / (last - first));
      batch.Add(PupilId(pupil), SchoolDay(session_index / 2), session_index % 2,
                CodeFor(pupil, session_index));
      if (batch.size == f.batch || i + 1 == share) {
        const std::string id = absl::StrCat("pg-", run, "-c", c, "-b", work[c].size());
        work[static_cast<size_t>(c)].push_back(batch.Params(id, f.school));
        batch = Batch{};
      }
    }
  }
  std::vector<std::vector<double>> latencies(static_cast<size_t>(f.clients));
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int c = 0; c < f.clients; ++c) {
    threads.emplace_back([&, c] {
      Connection db(f.conninfo);
      db.Prepare("insert", kInsert);
      for (const auto& params : work[static_cast<size_t>(c)]) {
        const auto t0 = Clock::now();
        db.Run("insert", params);
        latencies[static_cast<size_t>(c)].push_back(Ms(Clock::now() - t0));
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = Ms(Clock::now() - start) / 1000;
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  PrintResult(f, f.marks, seconds, all);
  return 0;
}

int Peak(const Flags& f) {
  // Arrival offsets of a Poisson process scaled to end within the window.
  std::mt19937_64 rng(static_cast<uint64_t>(f.seed));
  std::exponential_distribution<double> gap(1.0);
  std::vector<double> arrival_s;
  double t = 0;
  for (int i = 0; i < f.registers; ++i) arrival_s.push_back(t += gap(rng));
  const double scale = f.seconds / (t + gap(rng));  // once: the times stay in order
  for (double& a : arrival_s) a *= scale;
  const std::string run =
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  const std::string today = SchoolDay(10000);

  std::mutex mu;
  std::queue<int> ready;  // registers that have arrived, by index
  std::condition_variable cv;
  bool done = false;
  std::vector<double> latencies(static_cast<size_t>(f.registers));
  Clock::time_point start;  // set under `mu` once every connection is open
  std::latch connected(f.clients + 1);
  std::vector<std::thread> threads;
  for (int c = 0; c < f.clients; ++c) {
    threads.emplace_back([&] {
      Connection db(f.conninfo);
      db.Prepare("insert", kInsert);
      db.Exec("SELECT 1 FROM events LIMIT 1");  // the backend's caches warm, as a pool's are
      connected.count_down();
      for (;;) {
        int i;
        {
          std::unique_lock<std::mutex> lock(mu);
          cv.wait(lock, [&] { return done || !ready.empty(); });
          if (ready.empty()) return;
          i = ready.front();
          ready.pop();
        }
        Batch batch;
        for (int p = 0; p < f.batch; ++p) batch.Add(PupilId(i * f.batch + p), today, 0, "/");
        db.Run("insert", batch.Params(absl::StrCat("peak-", run, "-", i), f.school));
        const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(arrival_s[i]));
        latencies[static_cast<size_t>(i)] = Ms(Clock::now() - due);
      }
    });
  }
  connected.arrive_and_wait();
  {
    std::lock_guard<std::mutex> lock(mu);
    start = Clock::now();
  }
  for (int i = 0; i < f.registers; ++i) {
    std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                              std::chrono::duration<double>(arrival_s[i])));
    std::lock_guard<std::mutex> lock(mu);
    ready.push(i);
    cv.notify_one();
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    cv.notify_all();
  }
  for (auto& th : threads) th.join();
  PrintResult(f, static_cast<long long>(f.registers) * f.batch, Ms(Clock::now() - start) / 1000,
              latencies);
  return 0;
}

int Scan(const Flags& f) {
  Connection db(f.conninfo);
  const auto start = Clock::now();
  const auto [bytes, rows] = db.CopyOut("SELECT * FROM events ORDER BY seq");
  const double seconds = Ms(Clock::now() - start) / 1000;
  std::printf("scan: %lld rows (%.1f MB) in %.2f s: %.0f rows/s\n", rows, bytes / 1e6, seconds,
              rows / seconds);
  std::printf("RESULT mode=scan rows=%lld seconds=%.3f rows_per_s=%.0f\n", rows, seconds,
              rows / seconds);
  return 0;
}

int Query(const Flags& f) {
  Connection db(f.conninfo);
  db.Exec("ANALYZE events");  // as autovacuum would have after the load
  db.Prepare("pupil",
             "SELECT code, count(*) FROM events WHERE school_id = $1 AND pupil_id = $2 "
             "GROUP BY code");
  db.Prepare("cohort",
             "SELECT pupil_id, count(*), count(*) FILTER (WHERE code NOT IN ('/', '\\', 'L')) "
             "FROM events WHERE school_id = $1 GROUP BY pupil_id ORDER BY pupil_id");
  // A mark's history, as GetMarkHistory gives it: every event for one
  // pupil's session, in order.
  db.Prepare("history",
             "SELECT seq, recorded_at, code, actor FROM events WHERE school_id = $1 AND "
             "pupil_id = $2 AND date = $3 AND session = $4 ORDER BY seq");
  std::mt19937 rng(static_cast<unsigned>(f.seed));
  std::vector<double> pupil, cohort, history;
  const int days = static_cast<int>(std::max<long long>(1, f.marks / f.pupils / 2));
  for (int q = 0; q < f.queries; ++q) {
    const auto t0 = Clock::now();
    db.Run("history", {f.school, PupilId(static_cast<int>(rng() % f.pupils)),
                       SchoolDay(static_cast<int>(rng() % days)), std::to_string(rng() % 2)});
    history.push_back(Ms(Clock::now() - t0));
  }
  int rows = 0;
  for (int q = 0; q < f.queries; ++q) {
    const auto t0 = Clock::now();
    db.Run("pupil", {f.school, PupilId(static_cast<int>(rng() % f.pupils))});
    pupil.push_back(Ms(Clock::now() - t0));
  }
  for (int q = 0; q < std::max(3, f.queries / 20); ++q) {
    const auto t0 = Clock::now();
    rows = db.Run("cohort", {f.school});
    cohort.push_back(Ms(Clock::now() - t0));
  }
  std::printf("pupil query: p50 %.3f ms p99 %.3f ms; cohort (%d pupils): p50 %.2f ms max %.2f ms\n",
              Percentile(pupil, 0.5), Percentile(pupil, 0.99), rows, Percentile(cohort, 0.5),
              Percentile(cohort, 1.0));
  std::printf(
      "RESULT mode=query pupil_p50_ms=%.3f pupil_p99_ms=%.3f cohort_p50_ms=%.2f "
      "cohort_max_ms=%.2f cohort_rows=%d history_p50_ms=%.3f history_p99_ms=%.3f\n",
      Percentile(pupil, 0.5), Percentile(pupil, 0.99), Percentile(cohort, 0.5),
      Percentile(cohort, 1.0), rows, Percentile(history, 0.5), Percentile(history, 0.99));
  return 0;
}

int Main(int argc, char** argv) {
  constexpr std::string_view kProgram = "pg-baseline";
  if (!tools::ParseFlagsOrExit(argc, argv, kProgram, kUsage).empty()) {
    tools::ExitBadUsage(kProgram, "unexpected argument");
  }
  auto at_least_1 = [&](const auto& flag) { return tools::FlagAtLeast(kProgram, flag, 1); };
  Flags f;
  f.conninfo = absl::GetFlag(FLAGS_conninfo);
  f.mode = absl::GetFlag(FLAGS_mode);
  f.school = absl::GetFlag(FLAGS_school);
  f.pupils = static_cast<int>(at_least_1(FLAGS_pupils));
  f.marks = at_least_1(FLAGS_marks);
  f.batch = static_cast<int>(at_least_1(FLAGS_batch));
  f.clients = static_cast<int>(at_least_1(FLAGS_clients));
  f.registers = static_cast<int>(at_least_1(FLAGS_registers));
  f.seconds = static_cast<int>(at_least_1(FLAGS_seconds));
  f.queries = static_cast<int>(at_least_1(FLAGS_queries));
  f.seed = static_cast<int>(absl::GetFlag(FLAGS_seed));
  if (f.conninfo.empty()) tools::ExitBadUsage(kProgram, "--conninfo is required");
  if (f.clients > f.pupils) tools::ExitBadUsage(kProgram, "--clients must not exceed --pupils");
  if (f.mode == "setup") {
    Connection(f.conninfo).Exec(kSchema);
    return 0;
  }
  if (f.mode == "ingest") return Ingest(f);
  if (f.mode == "peak") return Peak(f);
  if (f.mode == "scan") return Scan(f);
  if (f.mode == "query") return Query(f);
  tools::ExitBadUsage(kProgram, "--mode must be setup, ingest, peak, scan or query");
}

}  // namespace
}  // namespace attendance::pg_baseline

int main(int argc, char** argv) { return attendance::pg_baseline::Main(argc, argv); }
