#include "services/recognition/backends.h"

#include "common/grpc_channel.h"
#include "common/status.h"

namespace stratus::recognition {
namespace {

// round_robin over every address the target resolves to (a headless Service's ready pods),
// UNAVAILABLE retries, keepalive: common/grpc_channel.h.
std::shared_ptr<grpc::Channel> Channel(const std::string& address, int max_bytes) {
  return stratus::MakeChannel(ChannelOptions{.target = address, .max_message_bytes = max_bytes});
}

void SetDeadline(grpc::ClientContext* ctx, std::chrono::milliseconds timeout) {
  ctx->set_deadline(std::chrono::system_clock::now() + timeout);
}

}  // namespace

DetectorClient::DetectorClient(const Options& options)
    : options_(options),
      stub_(stratus::v1::DetectorService::NewStub(
          Channel(options.address, options.max_message_bytes))) {}

absl::StatusOr<stratus::v1::AnalyzeFacesResponse> DetectorClient::AnalyzeFaces(
    const stratus::v1::AnalyzeFacesRequest& request) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, options_.timeout);
  stratus::v1::AnalyzeFacesResponse response;
  grpc::Status s = stub_->AnalyzeFaces(&ctx, request, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

absl::StatusOr<stratus::v1::DetectResponse> DetectorClient::Detect(
    const stratus::v1::DetectRequest& request) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, options_.timeout);
  stratus::v1::DetectResponse response;
  grpc::Status s = stub_->Detect(&ctx, request, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

MaskClient::MaskClient(const Options& options)
    : options_(options),
      stub_(stratus::v1::MaskService::NewStub(Channel(options.address, options.max_message_bytes))) {}

absl::StatusOr<stratus::v1::ClassifyResponse> MaskClient::Classify(
    const stratus::v1::ClassifyRequest& request) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, options_.timeout);
  stratus::v1::ClassifyResponse response;
  grpc::Status s = stub_->Classify(&ctx, request, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

}  // namespace stratus::recognition
