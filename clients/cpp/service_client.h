// The typed client of a Stratus gRPC service whose calls need nothing beyond the call itself:
// RecognitionClient, SentimentClient, IngestClient and KeyClient below. (DetectorClient and
// MaskClient have methods of their own.) What every client in clients/cpp does:
//
// - One channel from MakeChannel() (credentials and API key, round_robin, retries of
//   UNAVAILABLE, keepalive, trace context); it connects lazily, so a caller starts while the
//   service is down and its calls then fail with UNAVAILABLE.
// - Each unary call's deadline is `timeout` when set, else DefaultTimeout(kind) of the call's
//   kind, capped at the incoming call's deadline (the `incoming` argument or an
//   IncomingDeadlineScope on the serving thread).
// - Errors come back as absl::Status with the service's code, message and reason
//   (FromGrpcStatus(); ErrorReason() reads the reason).
//
// Thread-safe: calls may run concurrently; hold one client per channel user, not one per call.
//
//   clients::RecognitionClient rec({.address = "recognition:50053"});
//   absl::StatusOr<v1::SearchFacesByImageResponse> r =
//       rec.Call(&v1::RecognitionService::Stub::SearchFacesByImage, request, CallKind::kIndexed);
//
// Streaming calls go through stub() with a context from Context(kind):
//   auto ctx = ingest.Context(CallKind::kStream);
//   auto reader = ingest.stub().WatchEvents(ctx.get(), request);
#ifndef STRATUS_CLIENTS_CPP_SERVICE_CLIENT_H_
#define STRATUS_CLIENTS_CPP_SERVICE_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "clients/cpp/unary_call.h"
#include "common/grpc_channel.h"
#include "stratus/v1/ingest.grpc.pb.h"
#include "stratus/v1/keys.grpc.pb.h"
#include "stratus/v1/recognition.grpc.pb.h"
#include "stratus/v1/sentiment.grpc.pb.h"

namespace stratus::clients {

template <typename Service>
class ServiceClient {
 public:
  using Stub = typename Service::Stub;
  struct Options {
    std::string address;  // a gRPC target (see ChannelOptions::target)
    // Per unary call; unset: DefaultTimeout() of each call's kind.
    std::optional<std::chrono::milliseconds> timeout;
    int max_message_bytes = kDefaultMaxMessageBytes;
  };
  template <typename Request, typename Response>
  using Method = grpc::Status (Stub::*)(grpc::ClientContext*, const Request&, Response*);

  // A channel of its own to options.address.
  explicit ServiceClient(const Options& options)
      : ServiceClient(MakeChannel(ChannelOptions{.target = options.address,
                                                 .max_message_bytes = options.max_message_bytes}),
                      options) {}
  // Over an existing channel; options.address only names it in messages.
  ServiceClient(std::shared_ptr<grpc::Channel> channel, const Options& options)
      : options_(options), channel_(std::move(channel)), stub_(Service::NewStub(channel_)) {}

  // Calls `method` with `request`; `kind` chooses the default deadline (kInference for one
  // image or text through a model, kIndexed for collection operations that also run a model,
  // kControl for metadata).
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(Method<Request, Response> method, const Request& request,
                                CallKind kind,
                                const grpc::ServerContext* incoming = nullptr) const {
    return UnaryCall(*stub_, method, request, Timeout(kind), incoming);
  }

  // A context for a streaming call with the deadline of `kind` (none for kStream).
  std::unique_ptr<grpc::ClientContext> Context(CallKind kind) const {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (kind != CallKind::kStream || options_.timeout) SetDeadline(ctx.get(), Timeout(kind));
    return ctx;
  }
  Stub& stub() const { return *stub_; }

  const std::string& address() const { return options_.address; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  std::chrono::milliseconds Timeout(CallKind kind) const {
    return options_.timeout.value_or(DefaultTimeout(kind));
  }

  Options options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Stub> stub_;
};

using RecognitionClient = ServiceClient<v1::RecognitionService>;
using SentimentClient = ServiceClient<v1::SentimentService>;
using IngestClient = ServiceClient<v1::IngestService>;
using KeyClient = ServiceClient<v1::KeyService>;

}  // namespace stratus::clients

#endif  // STRATUS_CLIENTS_CPP_SERVICE_CLIENT_H_
