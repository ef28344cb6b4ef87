// ledgerd: the attendance ledger's gRPC server on an embedded RocksDB.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <chrono>
#include <atomic>
#include <limits>

#include <spdlog/spdlog.h>

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
  bool rebuild_read_models = false;
};

constexpr const char* kUsage = R"(usage: ledgerd [flags]
  --listen HOST:PORT   address to serve on (default 127.0.0.1:50051; port 0 = any free port)
  --data DIR           RocksDB data directory (default ./data; created if missing)
  --demo               load a demo school with a term of marks if the ledger is empty
  --log-level LEVEL    trace, debug, info, warn, error (default info)
  --port-file FILE     write the bound port to FILE once serving
  --verify             verify the hash chain of the whole log, print the result and exit
  --rebuild-read-models  ignore stored read-model checkpoints and rebuild them from position 1
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
    if (arg == "--listen") {
      if (!value(flags.listen)) return false;
    } else if (arg == "--data") {
      if (!value(flags.data)) return false;
    } else if (arg == "--log-level") {
      if (!value(flags.log_level)) return false;
    } else if (arg == "--port-file") {
      if (!value(flags.port_file)) return false;
    } else if (arg == "--demo") {
      flags.demo = true;
    } else if (arg == "--verify") {
      flags.verify = true;
    } else if (arg == "--rebuild-read-models") {
      flags.rebuild_read_models = true;
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

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, flags)) return 2;
  spdlog::set_level(spdlog::level::from_str(flags.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");

  attendance::ledger::LedgerOptions options;
  options.data_dir = flags.data;
  auto ledger = attendance::ledger::Ledger::Open(options);
  if (!ledger.ok()) {
    spdlog::error("cannot open ledger: {}", ledger.status().ToString());
    return 1;
  }

  if (flags.verify) {
    const auto last = (*ledger)->LastPosition();
    absl::Status status = (*ledger)->VerifyChain(1, 0);
    if (!status.ok()) {
      std::cout << "FAILED: " << status.message() << "\n";
      return 1;
    }
    std::cout << "OK: hash chain verifies over positions 1.." << last << "\n";
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
  attendance::projections::ProjectionRunnerOptions runner_options;
  runner_options.ignore_checkpoint = flags.rebuild_read_models;
  attendance::projections::ProjectionRunner runner(ledger->get(), &live, runner_options);
  if (absl::Status s = runner.Start(); !s.ok()) {
    spdlog::error("cannot start projections: {}", s.ToString());
    return 1;
  }

  attendance::services::LedgerServiceImpl ledger_service(**ledger);
  attendance::services::ProjectionsServiceImpl projections_service(&live);
  auto server =
      attendance::services::Server::Start(flags.listen, {&ledger_service, &projections_service});
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

  std::signal(SIGINT, [](int) { g_stop = true; });
  std::signal(SIGTERM, [](int) { g_stop = true; });
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  spdlog::info("shutting down");
  (*server)->Shutdown();
  runner.Stop();
  return 0;
}
