#include "services/mask/mask_service.h"

#include <cmath>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_channel.h"
#include "common/image.h"
#include "common/status.h"

namespace stratus::mask {
namespace {

void FillResult(const FaceMaskResult& r, const std::vector<std::string>& labels,
                v1::FaceMask* out) {
  out->mutable_box()->set_left(r.face.box.left);
  out->mutable_box()->set_top(r.face.box.top);
  out->mutable_box()->set_width(r.face.box.width);
  out->mutable_box()->set_height(r.face.box.height);
  out->set_label(r.label);
  out->set_confidence(r.confidence);
  out->set_face_confidence(r.face.confidence);
  auto& probabilities = *out->mutable_probabilities();
  for (size_t i = 0; i < labels.size() && i < r.probabilities.size(); ++i) {
    probabilities[labels[i]] = r.probabilities[i];
  }
}

}  // namespace

absl::StatusOr<cv::Mat> DecodeRequestImage(const v1::Image& image, const std::string& what) {
  switch (image.source_case()) {
    case v1::Image::kBytes:
      break;
    case v1::Image::kS3Object:
      return WithReason(absl::InvalidArgumentError(absl::StrCat(
                            what, ": the mask service has no object store: send Image.bytes")),
                        "InvalidS3ObjectException");
    case v1::Image::kUri:
      return WithReason(absl::InvalidArgumentError(absl::StrCat(
                            what, ": the mask service does not read URIs: send Image.bytes")),
                        "InvalidS3ObjectException");
    case v1::Image::SOURCE_NOT_SET:
      return absl::InvalidArgumentError(absl::StrCat(what, ": no image source set"));
  }
  if (image.bytes().size() > kMaxInlineImageBytes) {
    return WithReason(
        absl::InvalidArgumentError(absl::StrCat(what, " is ", image.bytes().size(),
                                                " bytes; the limit for Image.bytes is 5242880 "
                                                "bytes (5 MiB)")),
        "ImageTooLargeException");
  }
  auto mat = DecodeImage(image.bytes());
  if (!mat.ok()) {
    return WithReason(absl::InvalidArgumentError(absl::StrCat(what, ": ", mat.status().message())),
                      "InvalidImageFormatException");
  }
  return std::move(*mat);
}

absl::Status MaskServiceImpl::DoClassify(const v1::ClassifyRequest& request,
                                         v1::ClassifyResponse* response) {
  const bool has_crops = request.crops_size() > 0;
  if (has_crops == request.has_image()) {
    return absl::InvalidArgumentError(
        has_crops ? "set either crops or image (with optional boxes), not both"
                  : "nothing to classify: set crops, or image (with optional boxes)");
  }
  if (request.crops_size() > kMaxCrops) {
    return absl::InvalidArgumentError(absl::StrCat(request.crops_size(),
                                                   " crops; at most ", kMaxCrops, " per request"));
  }
  if (has_crops && request.boxes_size() > 0) {
    return absl::InvalidArgumentError("boxes go with image, not with crops");
  }
  if (request.boxes_size() > kMaxBoxes) {
    return absl::InvalidArgumentError(absl::StrCat(request.boxes_size(),
                                                   " boxes; at most ", kMaxBoxes, " per request"));
  }
  const float min_conf = request.min_face_confidence();
  if (!std::isfinite(min_conf) || min_conf < 0.0f || min_conf > 1.0f) {
    return absl::InvalidArgumentError(
        absl::StrCat("min_face_confidence must be within [0, 1], got ", min_conf));
  }
  std::vector<FaceBox> boxes;
  for (int i = 0; i < request.boxes_size(); ++i) {
    const v1::BoundingBox& b = request.boxes(i);
    if (!std::isfinite(b.left()) || !std::isfinite(b.top()) || !std::isfinite(b.width()) ||
        !std::isfinite(b.height()) || b.width() <= 0 || b.height() <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "box ", i, " has non-positive or non-finite size (width ", b.width(), ", height ",
          b.height(), ")"));
    }
    boxes.push_back(FaceBox{runtime::Box{b.left(), b.top(), b.width(), b.height()}, 1.0f});
  }

  absl::StatusOr<std::vector<FaceMaskResult>> results;
  if (has_crops) {
    std::vector<cv::Mat> crops;
    crops.reserve(request.crops_size());
    for (int i = 0; i < request.crops_size(); ++i) {
      STRATUS_ASSIGN_OR_RETURN(cv::Mat crop,
                               DecodeRequestImage(request.crops(i), absl::StrCat("crop ", i)));
      crops.push_back(std::move(crop));
    }
    results = classifier_->ClassifyCrops(crops);
  } else {
    STRATUS_ASSIGN_OR_RETURN(cv::Mat image, DecodeRequestImage(request.image(), "image"));
    response->mutable_image_size()->set_width(image.cols);
    response->mutable_image_size()->set_height(image.rows);
    if (!boxes.empty()) {
      results = classifier_->ClassifyBoxes(image, boxes);
    } else {
      results = classifier_->ClassifyImage(image, request.image().bytes(),
                                           min_conf > 0 ? min_conf : kDefaultMinFaceConfidence,
                                           finder_);
    }
  }
  if (!results.ok()) return results.status();
  const std::vector<std::string> labels = classifier_->labels();
  for (const FaceMaskResult& r : *results) FillResult(r, labels, response->add_results());
  response->set_model_version(classifier_->version());
  return absl::OkStatus();
}

grpc::Status MaskServiceImpl::Classify(grpc::ServerContext* ctx, const v1::ClassifyRequest* request,
                                       v1::ClassifyResponse* response) {
  const IncomingDeadlineScope deadline(ctx);  // the detector call ends when this call does
  const absl::Status status = DoClassify(*request, response);
  if (status.ok()) return grpc::Status::OK;
  response->Clear();
  return ToGrpcStatus(status);
}

}  // namespace stratus::mask
