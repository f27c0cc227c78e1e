#include "services/mask/detector_client.h"

#include "absl/strings/str_cat.h"

namespace stratus::mask {

DetectorFaceFinder::DetectorFaceFinder(const clients::DetectorClient::Options& options,
                                       std::string model)
    : client_(options), model_(std::move(model)) {}

absl::StatusOr<std::vector<FaceBox>> DetectorFaceFinder::FindFaces(std::string_view encoded,
                                                                   float min_confidence) {
  stratus::v1::DetectRequest request;
  request.set_model(model_);
  request.mutable_image()->set_bytes(std::string(encoded));
  request.set_min_confidence(min_confidence);
  request.set_max_results(100);
  absl::StatusOr<stratus::v1::DetectResponse> response = client_.Detect(request);
  if (!response.ok()) {
    const absl::Status& s = response.status();
    if (s.code() == absl::StatusCode::kUnavailable ||
        s.code() == absl::StatusCode::kDeadlineExceeded) {
      return absl::UnavailableError(absl::StrCat(
          "the face detector at ", client_.address(), " is unavailable (needed for an image "
          "without face boxes): ", s.message()));
    }
    return absl::Status(s.code(),
                        absl::StrCat("face detector at ", client_.address(), ": ", s.message()));
  }
  std::vector<FaceBox> faces;
  faces.reserve(response->detections_size());
  for (const auto& d : response->detections()) {
    faces.push_back(FaceBox{
        runtime::Box{d.box().left(), d.box().top(), d.box().width(), d.box().height()},
        d.confidence()});
  }
  return faces;
}

}  // namespace stratus::mask
