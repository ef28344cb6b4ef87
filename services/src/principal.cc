#include "services/principal.h"

namespace attendance::services {
namespace {

std::string Metadata(const grpc::ServerContextBase& context, const char* key) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(key);
  if (it == metadata.end()) return {};
  return std::string(it->second.data(), it->second.size());
}

}  // namespace

ledger::Principal PrincipalOf(const grpc::ServerContextBase& context) {
  return {Metadata(context, "x-actor-name"), Metadata(context, "x-actor-role")};
}

}  // namespace attendance::services
