#include "rocks_status.h"

#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace attendance::ledger {
namespace {

// A missing file that RocksDB's own metadata names (CURRENT names the
// MANIFEST, the MANIFEST names the SSTs and WALs) is lost data, not a
// transient failure: retrying will not bring it back. RocksDB reports it as
// IOError(PathNotFound) with the path in the message.
absl::string_view MissingDbFile(const rocksdb::Status& s) {
  if (!s.IsPathNotFound()) return {};
  const absl::string_view state = s.getState() != nullptr ? s.getState() : "";
  if (absl::StrContains(state, "/MANIFEST-")) return "the MANIFEST file that CURRENT names";
  for (absl::string_view suffix : {".sst", ".log", ".blob"}) {
    if (absl::StrContains(state, suffix)) return "a file that the MANIFEST names";
  }
  return {};
}

}  // namespace

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view op) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = absl::StrCat(op, ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (absl::string_view missing = MissingDbFile(s); !missing.empty()) {
    return absl::DataLossError(absl::StrCat(op, ": ", missing, " is missing (", s.ToString(),
                                            "); restore the directory from a backup"));
  }
  if (s.IsNoSpace()) return absl::ResourceExhaustedError(msg);
  if (s.IsBusy() || s.IsTryAgain()) return absl::AbortedError(msg);
  if (s.IsIOError()) return absl::UnavailableError(msg);
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  return absl::InternalError(msg);
}

}  // namespace attendance::ledger
