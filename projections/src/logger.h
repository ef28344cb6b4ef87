#pragma once

#include <spdlog/spdlog.h>

namespace attendance::projections {

// The module's logger, "projections".
spdlog::logger& Log();

}  // namespace attendance::projections
