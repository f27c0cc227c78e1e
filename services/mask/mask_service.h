// gRPC adapter of the mask service (stratus.v1.MaskService): a thin handler over MaskClassifier.
// Classify validates the request (proto/stratus/v1/mask.proto), decodes the images with
// common/image.h, calls the core and converts its status once.
//
// Errors: INVALID_ARGUMENT for neither or both of `crops` and `image`, more than 100 crops or
// boxes, boxes with crops, a box with non-positive size or outside the image,
// min_face_confidence outside [0, 1], and bad images (with the ErrorInfo reasons of
// common.proto: InvalidImageFormatException, ImageTooLargeException, InvalidS3ObjectException
// for s3_object / uri sources, which this service does not read); UNAVAILABLE while the model
// loads, or when an image without boxes needs the detector and it cannot be reached (the
// message names it).
//
// Thread safety: handlers run concurrently on gRPC's threads; the classifier and the finder
// must outlive the service.
#ifndef STRATUS_SERVICES_MASK_MASK_SERVICE_H_
#define STRATUS_SERVICES_MASK_MASK_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/status/statusor.h"
#include "services/mask/mask.h"
#include "stratus/v1/mask.grpc.pb.h"

namespace stratus::mask {

namespace v1 = ::stratus::v1;

// Limits of one request (mask.proto).
inline constexpr int kMaxCrops = 100;
inline constexpr int kMaxBoxes = 100;
inline constexpr float kDefaultMinFaceConfidence = 0.5f;

class MaskServiceImpl final : public v1::MaskService::Service {
 public:
  // `classifier` is not owned. `finder` (not owned) finds faces for an image without boxes;
  // nullptr: such requests are UNAVAILABLE ("no detector configured").
  MaskServiceImpl(MaskClassifier* classifier, FaceFinder* finder)
      : classifier_(classifier), finder_(finder) {}

  grpc::Status Classify(grpc::ServerContext* context, const v1::ClassifyRequest* request,
                        v1::ClassifyResponse* response) override;

  // The handler without gRPC (tests and the benchmark call it directly).
  absl::Status DoClassify(const v1::ClassifyRequest& request, v1::ClassifyResponse* response);

 private:
  MaskClassifier* classifier_;
  FaceFinder* finder_;
};

// Decodes an Image of a request: bytes only (at most 5 MiB). INVALID_ARGUMENT with the
// ErrorInfo reason of common.proto otherwise. `what` names the image in messages ("crop 3").
absl::StatusOr<cv::Mat> DecodeRequestImage(const v1::Image& image, const std::string& what);

}  // namespace stratus::mask

#endif  // STRATUS_SERVICES_MASK_MASK_SERVICE_H_
