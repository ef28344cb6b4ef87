#include "command_line/latency.h"

#include <algorithm>
#include <cstddef>

namespace attendance::tools {

double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(values.size() - 1, rank)];
}

}  // namespace attendance::tools
