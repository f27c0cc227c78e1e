#include "services/mask/detector_client.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "common/auth/client.h"
#include "common/status.h"

namespace stratus::mask {

DetectorClient::DetectorClient(const DetectorClientOptions& options) : options_(options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options_.max_message_bytes);
  args.SetMaxSendMessageSize(options_.max_message_bytes);
  stub_ =
      stratus::v1::DetectorService::NewStub(stratus::auth::CreateChannel(options_.address, args));
}

absl::StatusOr<std::vector<FaceBox>> DetectorClient::FindFaces(std::string_view encoded,
                                                               float min_confidence) {
  stratus::v1::DetectRequest request;
  request.set_model(options_.model);
  request.mutable_image()->set_bytes(std::string(encoded));
  request.set_min_confidence(min_confidence);
  request.set_max_results(100);
  stratus::v1::DetectResponse response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + options_.timeout);
  const grpc::Status s = stub_->Detect(&ctx, request, &response);
  if (!s.ok()) {
    if (s.error_code() == grpc::StatusCode::UNAVAILABLE ||
        s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      return absl::UnavailableError(absl::StrCat(
          "the face detector at ", options_.address, " is unavailable (needed for an image "
          "without face boxes): ", s.error_message()));
    }
    absl::Status status = FromGrpcStatus(s);
    return absl::Status(status.code(), absl::StrCat("face detector at ", options_.address,
                                                    ": ", status.message()));
  }
  std::vector<FaceBox> faces;
  faces.reserve(response.detections_size());
  for (const auto& d : response.detections()) {
    faces.push_back(FaceBox{
        runtime::Box{d.box().left(), d.box().top(), d.box().width(), d.box().height()},
        d.confidence()});
  }
  return faces;
}

}  // namespace stratus::mask
