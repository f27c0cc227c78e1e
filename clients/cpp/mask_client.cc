#include "clients/cpp/mask_client.h"

#include "clients/cpp/unary_call.h"

namespace stratus::clients {

MaskClient::MaskClient(const Options& options)
    : MaskClient(MakeChannel(ChannelOptions{.target = options.address,
                                            .max_message_bytes = options.max_message_bytes}),
                 options) {}

MaskClient::MaskClient(std::shared_ptr<grpc::Channel> channel, const Options& options)
    : options_(options), channel_(std::move(channel)), stub_(v1::MaskService::NewStub(channel_)) {}

absl::StatusOr<v1::ClassifyResponse> MaskClient::Classify(
    const v1::ClassifyRequest& request, const grpc::ServerContext* incoming) const {
  return UnaryCall(*stub_, &v1::MaskService::Stub::Classify, request, options_.timeout, incoming);
}

}  // namespace stratus::clients
