// ledgerd: the attendance ledger's gRPC server on an embedded RocksDB.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include <sys/stat.h>

#include <filesystem>
#include <functional>
#include <random>
#include <vector>

#include <spdlog/spdlog.h>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "command_line/command_line.h"
#include "history/load_history.h"
#include "ledger/backup.h"
#include "ledger/clock.h"
#include "ledger/ledger.h"
#include "projections/live_attendance.h"
#include "services/attendance_read_model.h"
#include "services/audit_service.h"
#include "services/escalation_read_model.h"
#include "services/escalation_service.h"
#include "services/feeds_service.h"
#include "services/ledger_service.h"
#include "services/mark_history_read_model.h"
#include "services/projections_service.h"
#include "services/read_model_host.h"
#include "services/security.h"
#include "services/server.h"

// Their meanings are in kUsage below; limits default to ServerLimits'.
ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "address to serve on");
ABSL_FLAG(std::string, data, "./data", "RocksDB data directory");
ABSL_FLAG(std::string, log_level, "info", "trace, debug, info, warn, error");
ABSL_FLAG(std::string, port_file, "", "write the bound port to this file once serving");
ABSL_FLAG(std::string, now, "", "run the clock from this local time in England");
ABSL_FLAG(std::string, tokens, "", "bearer tokens file");
ABSL_FLAG(std::string, tls_cert, "", "TLS certificate (PEM)");
ABSL_FLAG(std::string, tls_key, "", "TLS private key (PEM)");
ABSL_FLAG(std::string, tls_client_ca, "", "CA that client certificates must be signed by");
ABSL_FLAG(bool, demo, false, "load a demo school if the ledger is empty");
ABSL_FLAG(bool, verify, false, "verify the data directory read-only and exit");
ABSL_FLAG(std::string, backup_dir, "", "take online backups into this directory");
ABSL_FLAG(int, backup_every, 60, "minutes between backups");
ABSL_FLAG(int, backup_keep, 48, "backups kept, the newest");
ABSL_FLAG(int, max_streams_per_connection,
          attendance::services::ServerLimits{}.max_streams_per_connection,
          "calls open at once on one connection");
ABSL_FLAG(int, max_calls, attendance::services::ServerLimits{}.max_calls,
          "calls in flight over all connections");
ABSL_FLAG(int, max_mark_streams, attendance::services::ServerLimits{}.max_mark_streams,
          "StreamMarks streams open over all connections");
ABSL_FLAG(int, max_threads, attendance::services::ServerLimits{}.max_threads,
          "threads of the synchronous gRPC server");
ABSL_FLAG(int, max_idle_ms, attendance::services::ServerLimits{}.max_connection_idle_ms,
          "close connections without calls after this many ms");
ABSL_FLAG(int, max_feeds, attendance::services::ServerLimits{}.max_feeds,
          "feeds (attendance.v1.Feeds) open at once");
ABSL_FLAG(int, max_feed_lag_events, attendance::services::ServerLimits{}.max_feed_lag_events,
          "events a caught-up feed subscriber may fall behind before it is ended");
ABSL_FLAG(bool, rebuild_read_models, false, "rebuild read models from position 1");
ABSL_FLAG(std::string, head_key, "", "Ed25519 private key (PEM) that signs ledger heads");
ABSL_FLAG(int, block_cache_mb, attendance::ledger::LedgerOptions::kDefaultBlockCacheBytes >> 20,
          "RocksDB block cache for data blocks, MB");
ABSL_FLAG(int, write_buffer_mb,
          attendance::ledger::LedgerOptions::kDefaultWriteBufferBudgetBytes >> 20,
          "all RocksDB memtables together, MB");

namespace {

// A small primary (about 21 a year group): big enough to look real, small enough to load
// two years (synced) in a few seconds.
constexpr int kDemoPupils = 150;

struct Flags {
  std::string listen = "127.0.0.1:50051";
  std::string data = "./data";
  std::string log_level = "info";
  std::string port_file;
  std::string now;
  attendance::services::SecurityFlags security;
  bool demo = false;
  bool verify = false;
  std::string backup_dir;
  int backup_every_min = 60;
  int backup_keep = 48;
  attendance::services::ServerLimits limits;
  bool rebuild_read_models = false;
  std::string head_key;
  int block_cache_mb = 0;
  int write_buffer_mb = 0;
};

constexpr const char* kUsage = R"(usage: ledgerd [flags]
  --listen HOST:PORT   address to serve on (default 127.0.0.1:50051; port 0 = any free port)
  --data DIR           RocksDB data directory (default ./data; created if missing)
  --demo               load a demo school with last year's and this year's marks if the ledger is empty
  --log-level LEVEL    trace, debug, info, warn, error (default info)
  --port-file FILE     write the bound port to FILE once serving
  --backup-dir DIR     take online backups into DIR: one at start, then every --backup-every
  --backup-every MIN   minutes between backups (default 60)
  --backup-keep N      backups kept in --backup-dir, the newest (default 48)
  --verify             open read-only, verify the hash chain and every index, print what was
                       checked (or the first failure) and exit
  --max-streams-per-connection N  calls open at once on one connection (default 100)
  --max-calls N        calls in flight over all connections (default 256)
  --max-mark-streams N StreamMarks streams open over all connections (default 64)
  --max-threads N      threads of the synchronous gRPC server (default 128)
  --max-idle-ms N      close connections without calls after N ms (default 300000)
  --tokens FILE        bearer tokens file (hashes, roles, schools; reloaded on SIGHUP)
  --tls-cert FILE      TLS certificate (PEM); with --tls-key
  --tls-key FILE       TLS private key (PEM)
  --tls-client-ca FILE require client certificates signed by this CA (mutual TLS)
  --now YYYY-MM-DDTHH:MM[:SS]  run the clock from this local time in England (tests, demos)
Without --tokens every caller is a local admin, so only a loopback address is
served; any other address needs --tls-cert, --tls-key and --tokens.
  --rebuild-read-models  ignore stored read-model checkpoints and rebuild them from position 1
  --head-key FILE      Ed25519 private key (PEM) that signs GetLedgerHead's heads
  --block-cache-mb N   RocksDB's one block cache for data blocks (default 64)
  --write-buffer-mb N  all RocksDB memtables together; past it the largest is flushed (default 128)
)";

// Exits 0 on --help, 2 on bad usage (see command_line/command_line.h).
Flags ParseFlags(int argc, char** argv) {
  constexpr std::string_view kProgram = "ledgerd";
  const std::vector<std::string> rest =
      attendance::tools::ParseFlagsOrExit(argc, argv, kProgram, kUsage);
  if (!rest.empty()) {
    std::cerr << "ledgerd: unexpected argument " << rest.front() << "\n" << kUsage;
    std::exit(2);
  }
  auto positive = [&](const absl::Flag<int>& flag) {
    return static_cast<int>(attendance::tools::FlagAtLeast(kProgram, flag, 1));
  };
  Flags flags;
  flags.listen = absl::GetFlag(FLAGS_listen);
  flags.data = absl::GetFlag(FLAGS_data);
  flags.log_level = absl::GetFlag(FLAGS_log_level);
  flags.port_file = absl::GetFlag(FLAGS_port_file);
  flags.now = absl::GetFlag(FLAGS_now);
  flags.security.tokens_file = absl::GetFlag(FLAGS_tokens);
  flags.security.tls.cert_file = absl::GetFlag(FLAGS_tls_cert);
  flags.security.tls.key_file = absl::GetFlag(FLAGS_tls_key);
  flags.security.tls.client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  flags.demo = absl::GetFlag(FLAGS_demo);
  flags.verify = absl::GetFlag(FLAGS_verify);
  flags.backup_dir = absl::GetFlag(FLAGS_backup_dir);
  flags.backup_every_min = positive(FLAGS_backup_every);
  flags.backup_keep = positive(FLAGS_backup_keep);
  flags.limits.max_streams_per_connection = positive(FLAGS_max_streams_per_connection);
  flags.limits.max_calls = positive(FLAGS_max_calls);
  flags.limits.max_mark_streams = positive(FLAGS_max_mark_streams);
  flags.limits.max_threads = positive(FLAGS_max_threads);
  flags.limits.max_connection_idle_ms = positive(FLAGS_max_idle_ms);
  flags.limits.max_feeds = positive(FLAGS_max_feeds);
  flags.limits.max_feed_lag_events = positive(FLAGS_max_feed_lag_events);
  flags.rebuild_read_models = absl::GetFlag(FLAGS_rebuild_read_models);
  flags.head_key = absl::GetFlag(FLAGS_head_key);
  flags.block_cache_mb = positive(FLAGS_block_cache_mb);
  flags.write_buffer_mb = positive(FLAGS_write_buffer_mb);
  return flags;
}

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

// A clock that starts at `start` (local time in England, to the minute or
// the second) and runs from there.
std::function<std::int64_t()> ClockFrom(const std::string& start) {
  absl::TimeZone london;
  absl::Time parsed;
  std::string error;
  if (!absl::LoadTimeZone("Europe/London", &london) ||
      (!absl::ParseTime("%Y-%m-%dT%H:%M", start, london, &parsed, &error) &&
       !absl::ParseTime("%Y-%m-%dT%H:%M:%S", start, london, &parsed, &error))) {
    return nullptr;
  }
  const std::int64_t base_us = absl::ToUnixMicros(parsed);
  const auto steady_start = std::chrono::steady_clock::now();
  return [base_us, steady_start] {
    return base_us + std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::steady_clock::now() - steady_start)
                         .count();
  };
}

// The demo's tokens, one per role for the demo school, made once per data
// directory: DIR/demo-tokens holds their hashes (give it to --tokens), and
// DIR/demo-tokens.plain (mode 0600) the tokens themselves, printed at start.
void PrintDemoTokens(const std::string& data_dir) {
  const std::string plain_path = data_dir + "/demo-tokens.plain";
  const std::string hashes_path = data_dir + "/demo-tokens";
  static constexpr const char* kRoles[] = {"register", "attendance_officer", "auditor", "reporter",
                                           "admin"};
  std::vector<std::pair<std::string, std::string>> tokens;  // role, token
  if (std::ifstream in(plain_path); in) {
    std::string role, token;
    while (in >> role >> token) tokens.emplace_back(role, token);
  }
  if (tokens.empty()) {
    std::random_device random;
    std::ofstream plain(plain_path), hashes(hashes_path);
    ::chmod(plain_path.c_str(), 0600);
    hashes << "# demo tokens: sha256(token) role schools name\n";
    for (const char* role : kRoles) {
      std::string token = std::string("demo-") + role + "-";
      for (int i = 0; i < 4; ++i) token += absl::StrFormat("%08x", random());
      tokens.emplace_back(role, token);
      plain << role << " " << token << "\n";
      hashes << attendance::services::TokenStore::HashToken(token) << " " << role << " "
             << (std::string(role) == "admin" ? "*" : "demo-school") << " Demo " << role << "\n";
    }
  }
  std::cout << "demo tokens (enforced when ledgerd runs with --tokens " << hashes_path
            << "; send \"authorization: Bearer <token>\"):\n";
  for (const auto& [role, token] : tokens) std::cout << "  " << role << "\t" << token << "\n";
  std::cout.flush();
}

// Online backups while the server serves: one now, then one every
// `every_min` minutes until `stop`, keeping the newest `keep`. A failed
// backup is logged and retried at the next interval; writes go on.
void BackupLoop(attendance::ledger::Ledger& ledger, const Flags& flags, std::mutex& mu,
                std::condition_variable& cv, const bool& stop) {
  std::unique_lock lock(mu);
  do {
    lock.unlock();
    auto backup = ledger.CreateBackup(flags.backup_dir);
    if (backup.ok()) {
      spdlog::info("backup {} in {}: positions 1..{} or more, {} bytes", backup->id,
                   flags.backup_dir, backup->acknowledged_before, backup->size_bytes);
      if (absl::Status s = attendance::ledger::PurgeBackups(
              flags.backup_dir, static_cast<std::uint32_t>(flags.backup_keep));
          !s.ok()) {
        spdlog::error("purging old backups: {}", s.ToString());
      }
    } else {
      spdlog::error("backup into {} failed: {}", flags.backup_dir, backup.status().ToString());
    }
    lock.lock();
  } while (!cv.wait_for(lock, std::chrono::minutes(flags.backup_every_min), [&] { return stop; }));
}

}  // namespace

int main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  spdlog::set_level(spdlog::level::from_str(flags.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");

  // One clock for the ledger's validation, the projections' "today" and the
  // demo: school-local time in England (--now starts it at a given time).
  attendance::ledger::Clock clock;
  if (!flags.now.empty()) {
    std::function<std::int64_t()> from = ClockFrom(flags.now);
    if (!from) {
      std::cerr << "ledgerd: --now " << flags.now << " is not YYYY-MM-DDTHH:MM[:SS]\n";
      return 2;
    }
    clock = attendance::ledger::Clock(std::move(from));
  }
  if (flags.demo && !flags.verify) {
    // Before the security set-up, so that --demo --tokens DIR/demo-tokens
    // works on the very first start.
    std::filesystem::create_directories(flags.data);
    PrintDemoTokens(flags.data);
  }
  auto security = attendance::services::SetUpSecurity(flags.security, flags.listen);
  if (!flags.verify && !security.ok()) {
    std::cerr << "ledgerd: " << security.status().message() << "\n";
    return 2;
  }

  attendance::ledger::LedgerOptions options;
  options.data_dir = flags.data;
  // Verification only reads: read-only opens a copy, or a ledger whose
  // normal open is refused, and writes nothing to it.
  options.read_only = flags.verify;
  options.block_cache_bytes = static_cast<std::size_t>(flags.block_cache_mb) << 20;
  options.write_buffer_budget_bytes = static_cast<std::size_t>(flags.write_buffer_mb) << 20;
  // The demo's history is recorded at its own times (tools/history).
  attendance::history::SourceClock source_clock(clock);
  options.clock = flags.demo ? source_clock.Clock() : clock;
  auto ledger = attendance::ledger::Ledger::Open(options);
  if (!ledger.ok()) {
    if (flags.verify) std::cout << "FAILED: cannot open: " << ledger.status().message() << "\n";
    spdlog::error("cannot open ledger: {}", ledger.status().ToString());
    return 1;
  }

  if (flags.verify) {
    const auto last = (*ledger)->LastPosition();
    const auto started = std::chrono::steady_clock::now();
    auto seconds = [&] {
      return std::to_string(
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
                     .count()) +
             " s";
    };
    absl::Status status = (*ledger)->VerifyChain(1, 0);
    if (!status.ok()) {
      std::cout << "FAILED: hash chain: " << status.message() << "\n";
      return 1;
    }
    std::cout << "OK: hash chain verifies over positions 1.." << last << " (" << seconds() << ")\n";
    auto indexes = (*ledger)->VerifyIndexes();
    if (!indexes.ok()) {
      std::cout << "FAILED: " << indexes.status().message() << "\n";
      return 1;
    }
    std::cout << "OK: marks index: " << indexes->marks << " sessions equal a rebuild from the log\n"
              << "OK: requests index: " << indexes->requests
              << " request ids, each naming exactly its events\n"
              << "OK: table files: " << indexes->files << " files, every block checksum verifies ("
              << seconds() << " in all)\n";
    return 0;
  }

  if (flags.demo && (*ledger)->LastPosition() == 0) {
    // Last academic year and this one up to yesterday (today's registers are
    // left for the newcomer to take), each step recorded at the time the
    // school's system would have recorded it, so "as of" a past date answers.
    const attendance::ledger::Day today = clock.Today();
    attendance::history::HistoryOptions demo;
    demo.pupils = kDemoPupils;
    demo.first_academic_year = attendance::ledger::AcademicYearOf(today) - 1;
    demo.years = 2;
    demo.until = today - 1;
    spdlog::info("loading the demo school \"{}\"", demo.school_id);
    auto loaded = attendance::history::LoadHistory(**ledger, demo, &source_clock);
    if (!loaded.ok()) {
      spdlog::error("demo load failed: {}", loaded.status().ToString());
      return 1;
    }
    spdlog::info("demo loaded: {} events", (*ledger)->LastPosition());
  }

  // Read models: each restored from its own checkpoint and caught up before
  // serving, then fed from the log's tail by the host. One that fails is
  // logged by name and stops alone; the ledger keeps taking writes.
  attendance::projections::LiveAttendance live;
  attendance::services::AttendanceReadModel attendance_model(&live);
  attendance::services::MarkHistoryReadModel mark_history;
  attendance::projections::LiveEscalation live_escalation;  // issue 7: policies, ladders, worklist
  attendance::services::EscalationReadModel escalation_model(&live_escalation);
  attendance::services::AuditIndexReadModel audit_index;
  attendance::services::ReadModelHostOptions host_options;
  host_options.ignore_checkpoints = flags.rebuild_read_models;
  attendance::services::ReadModelHost read_models(ledger->get(), host_options);
  for (attendance::services::ReadModel* model :
       std::initializer_list<attendance::services::ReadModel*>{&attendance_model, &mark_history,
                                                               &escalation_model, &audit_index}) {
    if (absl::Status s = read_models.Add(model); !s.ok()) {
      spdlog::error("cannot host read model {}: {}", model->name(), s.ToString());
      return 1;
    }
  }
  if (absl::Status s = read_models.Start(); !s.ok()) {
    spdlog::error("cannot start read models: {}", s.ToString());
    return 1;
  }
  for (const auto& status : read_models.Statuses()) {
    if (!status.status.ok()) {
      spdlog::error("read model {} is not available: {}", status.name, status.status.ToString());
    }
  }

  if (security->local) {
    spdlog::warn(
        "*** UNAUTHENTICATED: no --tokens file, so every caller on {} is treated as a "
        "local admin. For anything but local use give --tokens, --tls-cert and "
        "--tls-key. ***",
        flags.listen);
  } else {
    spdlog::info("{} tokens loaded from {}; transport {}", security->tokens->size(),
                 flags.security.tokens_file,
                 security->credentials ? "TLS" : "plaintext (loopback)");
  }
  attendance::services::LedgerServiceImpl ledger_service(**ledger, security->auth);
  attendance::services::ProjectionsServiceImpl projections_service(
      &live, clock, security->auth,
      [&read_models, &attendance_model](attendance::ledger::Position position,
                                        std::chrono::steady_clock::time_point deadline) {
        return read_models.WaitFor(attendance_model.name(), position, deadline);
      });
  attendance::services::EscalationServiceImpl escalation_service(
      &live_escalation, clock, security->auth,
      [&read_models, &escalation_model](attendance::ledger::Position position,
                                        std::chrono::steady_clock::time_point deadline) {
        return read_models.WaitFor(escalation_model.name(), position, deadline);
      });
  // The audit trail (README, "Audit"); heads are signed only with --head-key.
  std::unique_ptr<attendance::services::HeadSigner> head_signer;
  if (!flags.head_key.empty()) {
    auto signer = attendance::services::HeadSigner::FromPemFile(flags.head_key);
    if (!signer.ok()) {
      spdlog::error("--head-key: {}", signer.status().ToString());
      return 2;
    }
    head_signer = std::move(*signer);
  }
  attendance::services::AuditServiceImpl audit_service(
      ledger->get(), &mark_history, &audit_index,
      {clock, security->auth,
       [&read_models](const std::string& name, attendance::ledger::Position position,
                      std::chrono::steady_clock::time_point deadline) {
         return read_models.WaitFor(name, position, deadline);
       },
       head_signer.get(), &escalation_model, &live_escalation});
  attendance::services::FeedsServiceImpl feeds_service(**ledger, security->auth, clock);
  auto server = attendance::services::Server::Start(
      flags.listen,
      {&ledger_service, &projections_service, &escalation_service, &audit_service, &feeds_service},
      flags.limits, security->credentials);
  if (!server.ok()) {
    spdlog::error("{}", server.status().ToString());
    return 1;
  }
  if (!flags.port_file.empty()) {
    // Write then rename, so a reader never sees a half-written file.
    const std::string tmp = flags.port_file + ".tmp";
    std::ofstream(tmp) << (*server)->port() << "\n";
    std::rename(tmp.c_str(), flags.port_file.c_str());
  }

  std::mutex backup_mu;
  std::condition_variable backup_cv;
  bool backup_stop = false;
  std::thread backups;
  if (!flags.backup_dir.empty()) {
    backups = std::thread([&] { BackupLoop(**ledger, flags, backup_mu, backup_cv, backup_stop); });
  }

  std::signal(SIGINT, [](int) { g_stop = true; });
  std::signal(SIGTERM, [](int) { g_stop = true; });
  std::signal(SIGHUP, [](int) { g_reload = true; });
  while (!g_stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (g_reload.exchange(false) && security->tokens) {
      if (absl::Status s = security->tokens->Reload(); s.ok()) {
        spdlog::info("SIGHUP: {} tokens reloaded from {}", security->tokens->size(),
                     flags.security.tokens_file);
      } else {
        spdlog::error("SIGHUP: tokens not reloaded, the old ones stay in force: {}", s.ToString());
      }
    }
  }
  spdlog::info("shutting down");
  if (backups.joinable()) {
    {
      std::lock_guard lock(backup_mu);
      backup_stop = true;
    }
    backup_cv.notify_all();
    backups.join();
  }
  (*server)->Shutdown();
  read_models.Stop();
  return 0;
}
