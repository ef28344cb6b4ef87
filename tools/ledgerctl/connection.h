// ledgerctl's channel to ledgerd: the address, the bearer token and TLS from
// the global options or, when a flag is absent, the environment
// (LEDGER_ADDRESS, LEDGER_TOKEN, LEDGER_TLS_CA). The channel is made on first
// use, so --help and local checks need no server.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

namespace attendance::ledgerctl {

struct ConnectionOptions {
  std::string address = "127.0.0.1:50051";
  std::string token;
  // PEM files. Any of them (or `tls`) makes the channel TLS; without a CA
  // gRPC's default roots are used. cert + key: a client certificate.
  bool tls = false;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_server_name;  // override the name checked in the server's certificate
  std::chrono::seconds deadline{30};
};

class Connection {
 public:
  explicit Connection(ConnectionOptions options) : options_(std::move(options)) {}

  // Nullptr and a message in `error` when a TLS file cannot be read.
  std::shared_ptr<grpc::Channel> Channel(std::string& error);

  // Sets the call's deadline and its `authorization: Bearer` metadata.
  void Prepare(grpc::ClientContext& context) const;
  // The same without a deadline (ReadEvents --follow runs until cancelled).
  void PrepareUnbounded(grpc::ClientContext& context) const;

  const ConnectionOptions& options() const { return options_; }

 private:
  ConnectionOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace attendance::ledgerctl
