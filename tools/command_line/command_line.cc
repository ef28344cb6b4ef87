#include "command_line/command_line.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"

namespace attendance::tools {
namespace {

// "--log_level" for the flag registered as log_level.
std::string Spelling(absl::string_view registered_name) {
  std::string name(registered_name);
  std::replace(name.begin(), name.end(), '_', '-');
  return "--" + name;
}

template <typename T>
long long AtLeast(std::string_view program, const absl::Flag<T>& flag, long long min) {
  const long long value = absl::GetFlag(flag);
  if (value < min) {
    ExitBadUsage(program, absl::StrCat(Spelling(absl::GetFlagReflectionHandle(flag).Name()), " ",
                                       value, ": must be at least ", min));
  }
  return value;
}

}  // namespace

void ExitBadUsage(std::string_view program, std::string_view message) {
  std::cerr << program << ": " << message << "\n";
  std::exit(2);
}

std::vector<std::string> ParseFlagsOrExit(int argc, char** argv, std::string_view program,
                                          std::string_view usage) {
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {
      positional.insert(positional.end(), argv + i + 1, argv + argc);
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      positional.emplace_back(arg);
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      std::exit(0);
    }
    const std::string spelt(arg.substr(0, arg.find('=')));
    const size_t dashes = std::min(spelt.find_first_not_of('-'), spelt.size());
    std::string name = spelt.substr(dashes);
    std::replace(name.begin(), name.end(), '-', '_');
    absl::CommandLineFlag* flag = name.empty() ? nullptr : absl::FindCommandLineFlag(name);
    if (flag == nullptr) {
      std::cerr << program << ": unknown flag " << spelt << "\n" << usage;
      std::exit(2);
    }
    std::string value;
    if (spelt.size() < arg.size()) {
      value = std::string(arg.substr(spelt.size() + 1));
    } else if (flag->IsOfType<bool>()) {
      value = "true";
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      ExitBadUsage(program, absl::StrCat(spelt, " needs a value"));
    }
    std::string error;  // absl's, which names the flag with underscores
    if (!flag->ParseFrom(value, &error)) {
      const char* expected =
          flag->IsOfType<bool>() ? "true or false"
          : flag->IsOfType<int>() || flag->IsOfType<long long>() || flag->IsOfType<unsigned>()
              ? "a whole number"
              : "a valid value";
      ExitBadUsage(program, absl::StrCat(spelt, ": \"", value, "\" is not ", expected));
    }
  }
  return positional;
}

long long FlagAtLeast(std::string_view program, const absl::Flag<int>& flag, long long min) {
  return AtLeast(program, flag, min);
}

long long FlagAtLeast(std::string_view program, const absl::Flag<long long>& flag, long long min) {
  return AtLeast(program, flag, min);
}

}  // namespace attendance::tools
