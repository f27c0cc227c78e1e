// The typed client of stratus.v1.MaskService, for the services that call it (ingest's stream
// workers) and for tools and tests. Same conventions as DetectorClient: one channel from
// MakeChannel(), each call's deadline `timeout` capped at the incoming call's, errors with the
// mask service's code and message (FromGrpcStatus()). Thread-safe.
#ifndef STRATUS_CLIENTS_CPP_MASK_CLIENT_H_
#define STRATUS_CLIENTS_CPP_MASK_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/grpc_channel.h"
#include "stratus/v1/mask.grpc.pb.h"

namespace stratus::clients {

class MaskClient {
 public:
  struct Options {
    std::string address = "localhost:50054";  // a gRPC target (see ChannelOptions::target)
    std::chrono::milliseconds timeout = DefaultTimeout(CallKind::kInference);
    int max_message_bytes = kDefaultMaxMessageBytes;
  };

  explicit MaskClient(const Options& options);
  // Over an existing channel; options.address only names it in messages.
  MaskClient(std::shared_ptr<grpc::Channel> channel, const Options& options);

  absl::StatusOr<v1::ClassifyResponse> Classify(
      const v1::ClassifyRequest& request, const grpc::ServerContext* incoming = nullptr) const;

  const std::string& address() const { return options_.address; }

 private:
  Options options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::MaskService::Stub> stub_;
};

}  // namespace stratus::clients

#endif  // STRATUS_CLIENTS_CPP_MASK_CLIENT_H_
