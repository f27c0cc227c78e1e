// The typed client of stratus.v1.RecognitionService, for the services that call it (ingest's
// face search) and for tools and tests. Same conventions as DetectorClient: one channel from
// MakeChannel(), a deadline per call capped at the incoming call's, errors with the service's
// code, message and reason (FromGrpcStatus()). Thread-safe.
//
// Every RPC through one typed entry point, the kind of call choosing its default deadline:
//   clients::RecognitionClient rec({.address = "recognition:50053"});
//   absl::StatusOr<v1::SearchFacesByImageResponse> r =
//       rec.Call(&v1::RecognitionService::Stub::SearchFacesByImage, request);
#ifndef STRATUS_CLIENTS_CPP_RECOGNITION_CLIENT_H_
#define STRATUS_CLIENTS_CPP_RECOGNITION_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "clients/cpp/unary_call.h"
#include "common/grpc_channel.h"
#include "stratus/v1/recognition.grpc.pb.h"

namespace stratus::clients {

class RecognitionClient {
 public:
  struct Options {
    std::string address = "localhost:50053";  // a gRPC target (see ChannelOptions::target)
    // Per call; unset: DefaultTimeout(kind) of each call's kind.
    std::optional<std::chrono::milliseconds> timeout;
    int max_message_bytes = kDefaultMaxMessageBytes;
  };
  template <typename Request, typename Response>
  using Method = grpc::Status (v1::RecognitionService::Stub::*)(grpc::ClientContext*,
                                                                const Request&, Response*);

  explicit RecognitionClient(const Options& options);
  // Over an existing channel; options.address only names it in messages.
  RecognitionClient(std::shared_ptr<grpc::Channel> channel, const Options& options);

  // Calls `method` with `request`. `kind`: kIndexed for what runs inference against a
  // collection (the default), kInference for image operations, kControl for metadata.
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(Method<Request, Response> method, const Request& request,
                                CallKind kind = CallKind::kIndexed,
                                const grpc::ServerContext* incoming = nullptr) const {
    return UnaryCall(*stub_, method, request, options_.timeout.value_or(DefaultTimeout(kind)),
                     incoming);
  }

  const std::string& address() const { return options_.address; }

 private:
  Options options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::RecognitionService::Stub> stub_;
};

}  // namespace stratus::clients

#endif  // STRATUS_CLIENTS_CPP_RECOGNITION_CLIENT_H_
