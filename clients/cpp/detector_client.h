// The typed client of stratus.v1.DetectorService, for the services that call the detector
// (mask, recognition, ingest's stream workers) and for tools and tests.
//
// One channel from MakeChannel() (round_robin over the target's addresses, retries of
// UNAVAILABLE, keepalive); it connects lazily, so a caller starts while the detector is down and
// its calls then fail with UNAVAILABLE. Each unary call gets `timeout` as its deadline, capped at
// the deadline of the incoming call being served (the `incoming` argument or an
// IncomingDeadlineScope). Errors keep the detector's code and message (FromGrpcStatus()).
//
// Thread-safe: calls may run concurrently; hold one client per channel user, not one per call.
#ifndef STRATUS_CLIENTS_CPP_DETECTOR_CLIENT_H_
#define STRATUS_CLIENTS_CPP_DETECTOR_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/grpc_channel.h"
#include "stratus/v1/detector.grpc.pb.h"

namespace stratus::clients {

class DetectorClient {
 public:
  struct Options {
    std::string address = "localhost:50052";  // a gRPC target (see ChannelOptions::target)
    std::chrono::milliseconds timeout = DefaultTimeout(CallKind::kInference);  // per unary call
    int max_message_bytes = kDefaultMaxMessageBytes;
  };
  using Stream = grpc::ClientReaderWriter<v1::DetectRequest, v1::DetectResponse>;

  // A channel of its own to options.address.
  explicit DetectorClient(const Options& options);
  // Over an existing channel (shared with other clients); options.address only names it in
  // messages.
  DetectorClient(std::shared_ptr<grpc::Channel> channel, const Options& options);

  absl::StatusOr<v1::DetectResponse> Detect(const v1::DetectRequest& request,
                                            const grpc::ServerContext* incoming = nullptr) const;
  absl::StatusOr<v1::AnalyzeFacesResponse> AnalyzeFaces(
      const v1::AnalyzeFacesRequest& request, const grpc::ServerContext* incoming = nullptr) const;
  absl::StatusOr<v1::ListModelsResponse> ListModels() const;
  // Opens a DetectStream on `ctx` (no deadline unless the caller set one; keepalive watches it).
  std::unique_ptr<Stream> DetectStream(grpc::ClientContext* ctx) const;

  const std::string& address() const { return options_.address; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  Options options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::DetectorService::Stub> stub_;
};

}  // namespace stratus::clients

#endif  // STRATUS_CLIENTS_CPP_DETECTOR_CLIENT_H_
