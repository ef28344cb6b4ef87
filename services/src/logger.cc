#include "logger.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace attendance::services {

spdlog::logger& Log() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto existing = spdlog::get("grpc");
    if (existing) return existing;
    auto created = spdlog::stderr_color_mt("grpc");
    created->set_level(spdlog::get_level());
    return created;
  }();
  return *logger;
}

}  // namespace attendance::services
