// Latency summaries of the tools and benchmarks: one rounding rule for every
// p50/p99 they print, so their figures compare.
#pragma once

#include <chrono>
#include <vector>

namespace attendance::tools {

// A duration in milliseconds.
inline double Ms(std::chrono::nanoseconds d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// The q-quantile (0 to 1) of `values` by nearest rank: the value at index
// q * (n - 1), rounded; 0 when there are none. Sorts its own copy.
double Percentile(std::vector<double> values, double q);

}  // namespace attendance::tools
