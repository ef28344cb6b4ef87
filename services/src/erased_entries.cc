#include "erased_entries.h"

#include <map>

#include "projections/mark_history.h"

namespace attendance::services {
namespace {

bool HasPrefix(std::string_view key, std::string_view prefix) {
  return key.substr(0, prefix.size()) == prefix;
}

// The last pending write of `key`, or null.
std::optional<std::string>* LastPending(PendingPuts& pending, std::string_view key) {
  for (auto it = pending.rbegin(); it != pending.rend(); ++it) {
    if (it->first == key) return &it->second;
  }
  return nullptr;
}

void Rewrite(std::optional<std::string>& value) {
  if (!value) return;
  if (std::optional<std::string> erased = projections::ErasedEventValue(*value)) {
    value = std::move(erased);
  }
}

}  // namespace

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ScanWithPending(
    const ledger::ReadModelStore& store, std::string_view prefix, const PendingPuts& pending) {
  std::map<std::string, std::optional<std::string>, std::less<>> merged;
  absl::Status s = store.Scan(prefix, [&](std::string_view key, std::string_view value) {
    merged.emplace(std::string(key), std::string(value));
    return true;
  });
  if (!s.ok()) return s;
  for (const auto& [key, value] : pending) {
    if (HasPrefix(key, prefix)) merged[key] = value;
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [key, value] : merged) {
    if (value) out.emplace_back(key, std::move(*value));
  }
  return out;
}

absl::Status EraseUnderPrefix(const ledger::ReadModelStore& store, std::string_view prefix,
                              PendingPuts& pending) {
  auto entries = ScanWithPending(store, prefix, pending);
  if (!entries.ok()) return entries.status();
  for (auto& [key, value] : *entries) {
    std::optional<std::string> rewritten = std::move(value);
    Rewrite(rewritten);
    pending.emplace_back(key, std::move(rewritten));
  }
  return absl::OkStatus();
}

absl::Status EraseKeys(const ledger::ReadModelStore& store, const std::vector<std::string>& keys,
                       PendingPuts& pending) {
  for (const std::string& key : keys) {
    if (std::optional<std::string>* value = LastPending(pending, key)) {
      Rewrite(*value);
      continue;
    }
    absl::StatusOr<std::string> stored = store.Get(key);
    if (absl::IsNotFound(stored.status())) continue;
    if (!stored.ok()) return stored.status();
    std::optional<std::string> rewritten = std::move(*stored);
    Rewrite(rewritten);
    pending.emplace_back(key, std::move(rewritten));
  }
  return absl::OkStatus();
}

}  // namespace attendance::services
