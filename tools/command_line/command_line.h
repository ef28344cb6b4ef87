// Command lines of the tools and benchmarks: Abseil flags (ABSL_FLAG) spelt
// with dashes, with bad usage exiting 2 as the tools always have.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/flag.h"

namespace attendance::tools {

// Sets the ABSL_FLAGs from argv: `--name value`, `--name=value`, and `--name`
// alone for a bool (`--name=false` clears it). On the command line a flag's
// dashes stand for its underscores: --log-level sets FLAGS_log_level, which is
// why this walks argv itself instead of calling absl::ParseCommandLine (that
// knows only --log_level, and exits 1 on bad usage). --help or -h prints
// `usage` and exits 0; an unknown flag, a missing value or a value that does
// not parse prints why and exits 2. `--` ends the flags. Returns the other
// arguments, in order, without argv[0].
std::vector<std::string> ParseFlagsOrExit(int argc, char** argv, std::string_view program,
                                          std::string_view usage);

// Prints "program: message" to stderr and exits 2 (bad usage).
[[noreturn]] void ExitBadUsage(std::string_view program, std::string_view message);

// The flag's value, or ExitBadUsage naming the flag when it is below `min`.
long long FlagAtLeast(std::string_view program, const absl::Flag<int>& flag, long long min);
long long FlagAtLeast(std::string_view program, const absl::Flag<long long>& flag, long long min);

}  // namespace attendance::tools
