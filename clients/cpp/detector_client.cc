#include "clients/cpp/detector_client.h"

#include "clients/cpp/unary_call.h"

namespace stratus::clients {

DetectorClient::DetectorClient(const Options& options)
    : DetectorClient(MakeChannel(ChannelOptions{.target = options.address,
                                                .max_message_bytes = options.max_message_bytes}),
                     options) {}

DetectorClient::DetectorClient(std::shared_ptr<grpc::Channel> channel, const Options& options)
    : options_(options),
      channel_(std::move(channel)),
      stub_(v1::DetectorService::NewStub(channel_)) {}

absl::StatusOr<v1::DetectResponse> DetectorClient::Detect(
    const v1::DetectRequest& request, const grpc::ServerContext* incoming) const {
  return UnaryCall(*stub_, &v1::DetectorService::Stub::Detect, request, options_.timeout, incoming);
}

absl::StatusOr<v1::AnalyzeFacesResponse> DetectorClient::AnalyzeFaces(
    const v1::AnalyzeFacesRequest& request, const grpc::ServerContext* incoming) const {
  return UnaryCall(*stub_, &v1::DetectorService::Stub::AnalyzeFaces, request, options_.timeout,
                   incoming);
}

absl::StatusOr<v1::ListModelsResponse> DetectorClient::ListModels() const {
  return UnaryCall(*stub_, &v1::DetectorService::Stub::ListModels, v1::ListModelsRequest(),
                   options_.timeout, nullptr);
}

std::unique_ptr<DetectorClient::Stream> DetectorClient::DetectStream(
    grpc::ClientContext* ctx) const {
  return stub_->DetectStream(ctx);
}

}  // namespace stratus::clients
