// What import-marks and import-ctf share: rows checked locally (marks_csv.h)
// sent through ImportHistory, idempotently, with errors by line.
#pragma once

#include <string>
#include <vector>

#include "cli.h"
#include "marks_csv.h"

namespace attendance::ledgerctl {

// Imports `file`'s rows into --school (the options of ImportOptions), prints
// each rejected row as `PATH:LINE: why` and a summary (or --json), and
// returns the exit code (0, 3, 8, or the RPC's). The events' imported_from
// is --source, or `default_source`.
int RunImport(Invocation& invocation, const std::string& path, const MarksFile& file,
              const std::string& default_source);

// --school, --all-or-nothing, --dry-run, --batch, --source.
const std::vector<Option>& ImportOptions();

}  // namespace attendance::ledgerctl
