#pragma once

#include <string_view>

#include <rocksdb/status.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace attendance::ledger {

// The only place that inspects a rocksdb::Status.
absl::Status FromRocks(const rocksdb::Status& s, absl::string_view op);

}  // namespace attendance::ledger
