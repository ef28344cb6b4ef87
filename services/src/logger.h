#pragma once

#include <spdlog/spdlog.h>

namespace attendance::services {

// The services module's logger ("grpc").
spdlog::logger& Log();

}  // namespace attendance::services
