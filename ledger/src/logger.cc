#include "logger.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace attendance::ledger {

spdlog::logger& Log() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto existing = spdlog::get("ledger");
    if (existing) return existing;
    auto created = spdlog::stderr_color_mt("ledger");
    created->set_level(spdlog::get_level());
    return created;
  }();
  return *logger;
}

}  // namespace attendance::ledger
