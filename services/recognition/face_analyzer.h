// Where the recognition service gets its face and object analysis from: the detector service
// (and the mask service) in production, fakes in tests (services/recognition/testing/).
//
// Implementations must be thread-safe. Errors follow detector.proto / mask.proto: INVALID_ARGUMENT
// for images the models cannot read, UNAVAILABLE when the backend cannot be reached or is not
// ready, UNIMPLEMENTED when the backend does not offer the call (e.g. the mask service before it
// has a model).
#ifndef STRATUS_SERVICES_RECOGNITION_FACE_ANALYZER_H_
#define STRATUS_SERVICES_RECOGNITION_FACE_ANALYZER_H_

#include "absl/status/statusor.h"
#include "stratus/v1/detector.pb.h"
#include "stratus/v1/mask.pb.h"

namespace stratus::recognition {

class FaceAnalyzer {
 public:
  virtual ~FaceAnalyzer() = default;
  // The detector's AnalyzeFaces: faces largest first, 68 landmarks, pose, quality, and on
  // request descriptors and attributes.
  virtual absl::StatusOr<stratus::v1::AnalyzeFacesResponse> AnalyzeFaces(
      const stratus::v1::AnalyzeFacesRequest& request) = 0;
};

class ObjectDetector {
 public:
  virtual ~ObjectDetector() = default;
  // The detector's Detect (model "objects" for labels and persons).
  virtual absl::StatusOr<stratus::v1::DetectResponse> Detect(
      const stratus::v1::DetectRequest& request) = 0;
};

class MaskClassifier {
 public:
  virtual ~MaskClassifier() = default;
  // The mask service's Classify.
  virtual absl::StatusOr<stratus::v1::ClassifyResponse> Classify(
      const stratus::v1::ClassifyRequest& request) = 0;
};

}  // namespace stratus::recognition

#endif  // STRATUS_SERVICES_RECOGNITION_FACE_ANALYZER_H_
