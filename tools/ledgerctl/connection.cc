#include "connection.h"

#include <fstream>
#include <sstream>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

namespace attendance::ledgerctl {
namespace {

bool ReadFile(const std::string& path, std::string& contents, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read " + path;
    return false;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  contents = buffer.str();
  return true;
}

}  // namespace

std::shared_ptr<grpc::Channel> Connection::Channel(std::string& error) {
  if (channel_ != nullptr) return channel_;
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  const bool tls = options_.tls || !options_.tls_ca.empty() || !options_.tls_cert.empty();
  if (tls) {
    grpc::SslCredentialsOptions ssl;
    if (!options_.tls_ca.empty() && !ReadFile(options_.tls_ca, ssl.pem_root_certs, error)) {
      return nullptr;
    }
    if (!options_.tls_cert.empty()) {
      if (!ReadFile(options_.tls_cert, ssl.pem_cert_chain, error)) return nullptr;
      if (!ReadFile(options_.tls_key, ssl.pem_private_key, error)) return nullptr;
    }
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  // Imports send batches of up to 10,000 marks; replies (a page of 1,000
  // pupils with their figures) stay well under gRPC's 4 MB default, but a
  // large cohort table need not fail on it.
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  args.SetMaxSendMessageSize(16 * 1024 * 1024);
  if (!options_.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options_.tls_server_name);
  }
  channel_ = grpc::CreateCustomChannel(options_.address, credentials, args);
  return channel_;
}

void Connection::Prepare(grpc::ClientContext& context) const {
  PrepareUnbounded(context);
  context.set_deadline(std::chrono::system_clock::now() + options_.deadline);
}

void Connection::PrepareUnbounded(grpc::ClientContext& context) const {
  if (!options_.token.empty()) context.AddMetadata("authorization", "Bearer " + options_.token);
}

}  // namespace attendance::ledgerctl
