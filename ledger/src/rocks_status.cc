#include "rocks_status.h"

#include "absl/strings/str_cat.h"

namespace attendance::ledger {

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view op) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = absl::StrCat(op, ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsNoSpace()) return absl::ResourceExhaustedError(msg);
  if (s.IsBusy() || s.IsTryAgain()) return absl::AbortedError(msg);
  if (s.IsIOError()) return absl::UnavailableError(msg);
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  return absl::InternalError(msg);
}

}  // namespace attendance::ledger
