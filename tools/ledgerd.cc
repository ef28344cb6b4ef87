// ledgerd: the attendance ledger's gRPC server on an embedded RocksDB.
#include <charconv>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <chrono>
#include <atomic>
#include <condition_variable>
#include <limits>
#include <mutex>

#include <spdlog/spdlog.h>

#include "absl/strings/numbers.h"
#include "ledger/backup.h"
#include "ledger/ledger.h"
#include "projections/live_attendance.h"
#include "projections/projection_runner.h"
#include "services/ledger_service.h"
#include "services/projections_service.h"
#include "services/server.h"
#include "demo/demo_school.h"

namespace {

struct Flags {
  std::string listen = "127.0.0.1:50051";
  std::string data = "./data";
  std::string log_level = "info";
  std::string port_file;
  bool demo = false;
  bool verify = false;
  std::string backup_dir;
  int backup_every_min = 60;
  int backup_keep = 48;
  attendance::services::ServerLimits limits;
};

constexpr const char* kUsage = R"(usage: ledgerd [flags]
  --listen HOST:PORT   address to serve on (default 127.0.0.1:50051; port 0 = any free port)
  --data DIR           RocksDB data directory (default ./data; created if missing)
  --demo               load a demo school with a term of marks if the ledger is empty
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
)";

bool ParseFlags(int argc, char** argv, Flags& flags) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) {
        std::cerr << "ledgerd: " << arg << " needs a value\n";
        return false;
      }
      out = argv[++i];
      return true;
    };
    auto positive = [&](int& out) {
      std::string text;
      if (!value(text)) return false;
      int parsed = 0;
      const char* end = text.data() + text.size();
      auto [ptr, error] = std::from_chars(text.data(), end, parsed);
      if (error != std::errc() || ptr != end || parsed <= 0) {
        std::cerr << "ledgerd: " << arg << ": \"" << text << "\" is not a positive number\n";
        return false;
      }
      out = parsed;
      return true;
    };
    if (arg == "--listen") {
      if (!value(flags.listen)) return false;
    } else if (arg == "--data") {
      if (!value(flags.data)) return false;
    } else if (arg == "--log-level") {
      if (!value(flags.log_level)) return false;
    } else if (arg == "--port-file") {
      if (!value(flags.port_file)) return false;
    } else if (arg == "--backup-dir") {
      if (!value(flags.backup_dir)) return false;
    } else if (arg == "--backup-every" || arg == "--backup-keep") {
      std::string text;
      int& out = arg == "--backup-every" ? flags.backup_every_min : flags.backup_keep;
      if (!value(text) || !absl::SimpleAtoi(text, &out) || out < 1) {
        std::cerr << "ledgerd: " << arg << " needs a whole number of at least 1\n";
        return false;
      }
    } else if (arg == "--max-streams-per-connection") {
      if (!positive(flags.limits.max_streams_per_connection)) return false;
    } else if (arg == "--max-calls") {
      if (!positive(flags.limits.max_calls)) return false;
    } else if (arg == "--max-mark-streams") {
      if (!positive(flags.limits.max_mark_streams)) return false;
    } else if (arg == "--max-threads") {
      if (!positive(flags.limits.max_threads)) return false;
    } else if (arg == "--max-idle-ms") {
      if (!positive(flags.limits.max_connection_idle_ms)) return false;
    } else if (arg == "--demo") {
      flags.demo = true;
    } else if (arg == "--verify") {
      flags.verify = true;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else {
      std::cerr << "ledgerd: unknown flag " << arg << "\n" << kUsage;
      return false;
    }
  }
  return true;
}

std::atomic<bool> g_stop{false};

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
  Flags flags;
  if (!ParseFlags(argc, argv, flags)) return 2;
  spdlog::set_level(spdlog::level::from_str(flags.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");

  attendance::ledger::LedgerOptions options;
  options.data_dir = flags.data;
  // Verification only reads: read-only opens a copy, or a ledger whose
  // normal open is refused, and writes nothing to it.
  options.read_only = flags.verify;
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
      return std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                           started).count()) + " s";
    };
    absl::Status status = (*ledger)->VerifyChain(1, 0);
    if (!status.ok()) {
      std::cout << "FAILED: hash chain: " << status.message() << "\n";
      return 1;
    }
    std::cout << "OK: hash chain verifies over positions 1.." << last << " (" << seconds()
              << ")\n";
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
    // The current academic year up to today, so that "year to date" and
    // "this half-term" figures have data the moment the server starts.
    const auto today = static_cast<attendance::ledger::Day>(
        std::chrono::duration_cast<std::chrono::hours>(
            std::chrono::system_clock::now().time_since_epoch()).count() / 24);
    attendance::demo::DemoOptions demo;
    demo.academic_year = attendance::ledger::AcademicYearOf(today);
    // Up to yesterday: today's registers are left for the newcomer to take.
    demo.today = today - 1;
    const auto first_day = attendance::ledger::ParseDate(
        attendance::demo::DemoCalendar(demo.academic_year).terms(0).half_terms(0).first_day());
    if (first_day && today < *first_day) {
      // Summer holidays: show last year's autumn term instead of an empty year.
      demo.academic_year -= 1;
      demo.today = std::numeric_limits<attendance::ledger::Day>::max();
    }
    spdlog::info("loading the demo school \"{}\"", demo.school_id);
    if (absl::Status s = attendance::demo::LoadDemo(**ledger, demo); !s.ok()) {
      spdlog::error("demo load failed: {}", s.ToString());
      return 1;
    }
    spdlog::info("demo loaded: {} events", (*ledger)->LastPosition());
  }

  // Projections: loaded from their checkpoint and caught up before serving,
  // then kept current by the runner's thread.
  attendance::projections::LiveAttendance live;
  attendance::projections::ProjectionRunner runner(ledger->get(), &live);
  if (absl::Status s = runner.Start(); !s.ok()) {
    spdlog::error("cannot start projections: {}", s.ToString());
    return 1;
  }

  attendance::services::LedgerServiceImpl ledger_service(**ledger);
  attendance::services::ProjectionsServiceImpl projections_service(&live);
  auto server =
      attendance::services::Server::Start(flags.listen, {&ledger_service, &projections_service},
                                          flags.limits);
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
    backups = std::thread(
        [&] { BackupLoop(**ledger, flags, backup_mu, backup_cv, backup_stop); });
  }

  std::signal(SIGINT, [](int) { g_stop = true; });
  std::signal(SIGTERM, [](int) { g_stop = true; });
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
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
  runner.Stop();
  return 0;
}
