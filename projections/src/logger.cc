#include "logger.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <memory>

namespace attendance::projections {

spdlog::logger& Log() {
  static const std::shared_ptr<spdlog::logger> kLogger = [] {
    std::shared_ptr<spdlog::logger> logger = spdlog::get("projections");
    return logger != nullptr ? logger : spdlog::stderr_color_mt("projections");
  }();
  return *kLogger;
}

}  // namespace attendance::projections
