#pragma once

#include <memory>

#include <spdlog/spdlog.h>

namespace attendance::ledger {

// The ledger module's logger ("ledger").
spdlog::logger& Log();

}  // namespace attendance::ledger
