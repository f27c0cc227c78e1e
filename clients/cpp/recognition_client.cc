#include "clients/cpp/recognition_client.h"

namespace stratus::clients {

RecognitionClient::RecognitionClient(const Options& options)
    : RecognitionClient(MakeChannel(ChannelOptions{.target = options.address,
                                                   .max_message_bytes = options.max_message_bytes}),
                        options) {}

RecognitionClient::RecognitionClient(std::shared_ptr<grpc::Channel> channel, const Options& options)
    : options_(options),
      channel_(std::move(channel)),
      stub_(v1::RecognitionService::NewStub(channel_)) {}

}  // namespace stratus::clients
