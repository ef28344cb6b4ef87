// The --window flags the Projections subcommands (and export-figures) share.
#pragma once

#include <vector>

#include "attendance/v1/projections_service.pb.h"
#include "cli.h"

namespace attendance::ledgerctl {

// --window year-to-date|term|half-term|previous-year|weeks, --weeks N,
// --years-back N.
std::vector<Option> WindowOptions();
// Unset when --window is absent (the server's default: year to date).
attendance::v1::Window WindowFromFlags(const Args& args);
// "Autumn 1 (2025-09-01..2025-10-24)"
std::string WindowText(const attendance::v1::Window& window);

}  // namespace attendance::ledgerctl
