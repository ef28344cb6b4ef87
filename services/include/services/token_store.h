#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/access.h"

namespace attendance::services {

// Bearer tokens mapped to callers, from a tokens file that holds only the
// tokens' SHA-256 hashes, so that a copy of the file grants nothing:
//
//   # sha256(token) in hex   role                schools        name
//   5e884898da28...d1542d8   attendance_officer  demo-school    Mrs A. Officer
//   9f86d081884c...f00a08   reporter+personal   school-a,b     Trust dashboard
//   2c26b46b68ff...bcd4e5   admin               *              Ops on call
//
// Blank lines and lines starting with '#' are ignored. `schools` is "*" for
// every school or a comma-separated list. "reporter+personal" is a reporter
// granted pupils' personal details. The name is the rest of the line, and is
// what events record as the actor.
//
// Thread-safe: Find may run on every gRPC thread while Reload (on SIGHUP)
// swaps in a new table; a file that fails to parse leaves the old one.
class TokenStore {
 public:
  // INVALID_ARGUMENT naming the line for a malformed file; NOT_FOUND if it
  // cannot be read.
  static absl::StatusOr<std::unique_ptr<TokenStore>> Load(std::string path);

  // The caller a token belongs to, or nullopt.
  std::optional<Caller> Find(absl::string_view token) const;

  // Re-reads the file; on error keeps the current table and says why.
  absl::Status Reload();

  std::size_t size() const;

  // Lowercase hex SHA-256, as the file stores it (for tools and the demo).
  static std::string HashToken(absl::string_view token);
  // Parses a tokens file's text (exposed for tests).
  using Table = absl::flat_hash_map<std::string, Caller>;
  static absl::StatusOr<Table> Parse(absl::string_view text, absl::string_view path);

 private:
  explicit TokenStore(std::string path) : path_(std::move(path)) {}

  std::string path_;
  mutable std::mutex mu_;
  std::shared_ptr<const Table> table_;
};

}  // namespace attendance::services
