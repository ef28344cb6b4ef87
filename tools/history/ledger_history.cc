// ledger-history: generates a synthetic school history (tools/history) into
// a ledger data directory, recorded at its source times, for benchmarks and
// demos.
//
//   ledger-history --data DIR [--school ID] [--pupils N] [--years N]
//                  [--first-year YYYY] [--seed N] [--sync] [--digest]
//
// --first-year defaults to the academic year that ended most recently, going
// back --years - 1 more, so the history ends last summer. --digest prints
// the history's digest without writing anything. Exit status: 0 done,
// 1 failed (the message says why), 2 bad usage.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "command_line/command_line.h"
#include "history/history.h"
#include "history/load_history.h"
#include "ledger/clock.h"
#include "ledger/ledger.h"

ABSL_FLAG(std::string, data, "", "the ledger's data directory (created if missing)");
ABSL_FLAG(std::string, school, "demo-school", "the school id");
ABSL_FLAG(int, pupils, 2000, "pupils on roll at the start (above 840: a secondary school)");
ABSL_FLAG(int, years, 3, "academic years of history");
ABSL_FLAG(int, first_year, 0, "the first academic year (2024 = 2024-25); 0: see --help");
ABSL_FLAG(long long, seed, 1, "the generator's seed");
ABSL_FLAG(bool, sync, false, "sync every command to disk, as ledgerd does");
ABSL_FLAG(bool, digest, false, "print the history's digest only");

namespace {

namespace ledger = attendance::ledger;
namespace history = attendance::history;

constexpr std::string_view kProgram = "ledger-history";
constexpr const char* kUsage = R"(usage:
  ledger-history --data DIR [--school ID] [--pupils N] [--years N]
                 [--first-year YYYY] [--seed N] [--sync] [--digest]
)";

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> rest =
      attendance::tools::ParseFlagsOrExit(argc, argv, kProgram, kUsage);
  if (!rest.empty()) attendance::tools::ExitBadUsage(kProgram, "unexpected argument " + rest[0]);
  history::HistoryOptions options;
  options.school_id = absl::GetFlag(FLAGS_school);
  options.pupils = static_cast<int>(attendance::tools::FlagAtLeast(kProgram, FLAGS_pupils, 1));
  options.years = static_cast<int>(attendance::tools::FlagAtLeast(kProgram, FLAGS_years, 1));
  options.seed = static_cast<std::uint64_t>(absl::GetFlag(FLAGS_seed));
  const ledger::Day today = ledger::Clock().Today();
  options.first_academic_year = absl::GetFlag(FLAGS_first_year);
  if (options.first_academic_year == 0) {
    options.first_academic_year = ledger::AcademicYearOf(today) - options.years;
  }
  options.until = today - 1;

  if (absl::GetFlag(FLAGS_digest)) {
    auto digest = history::HistoryDigest(options);
    if (!digest.ok()) {
      std::cerr << "ledger-history: " << digest.status().message() << "\n";
      return 2;
    }
    std::cout << absl::StrFormat("%016x\n", *digest);
    return 0;
  }
  const std::string data = absl::GetFlag(FLAGS_data);
  if (data.empty()) attendance::tools::ExitBadUsage(kProgram, "--data is required");

  history::SourceClock clock;
  ledger::LedgerOptions ledger_options;
  ledger_options.data_dir = data;
  ledger_options.sync = absl::GetFlag(FLAGS_sync);
  ledger_options.clock = clock.Clock();
  auto opened = ledger::Ledger::Open(ledger_options);
  if (!opened.ok()) {
    std::cerr << "ledger-history: cannot open " << data << ": " << opened.status().message()
              << "\n";
    return 1;
  }
  const auto started = std::chrono::steady_clock::now();
  auto stats = history::LoadHistory(**opened, options, &clock);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!stats.ok()) {
    std::cerr << "ledger-history: " << stats.status().ToString() << "\n";
    return stats.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::cout << absl::StrFormat(
      "%s: %d pupils x %d years from %d-%02d: %d steps, %d pupils enrolled, %d marks, "
      "%d amendments, %d letters, %d actions; %d events in %.1f s (%.0f marks/s)\n",
      options.school_id, options.pupils, options.years, options.first_academic_year,
      (options.first_academic_year + 1) % 100, stats->steps, stats->pupils, stats->marks,
      stats->amendments, stats->letters, stats->actions, (*opened)->LastPosition(), seconds,
      static_cast<double>(stats->marks) / seconds);
  return 0;
}
