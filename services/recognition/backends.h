// The analysis backends over gRPC, as the Recognizer's interfaces (face_analyzer.h): the
// detector service (AnalyzeFaces, Detect) and the mask service (Classify), through the typed
// clients of clients/cpp (channels that connect lazily, so the recognition service starts
// while they are down and calls then fail with UNAVAILABLE; deadlines capped at the incoming
// call's). Thread-safe.
#ifndef STRATUS_SERVICES_RECOGNITION_BACKENDS_H_
#define STRATUS_SERVICES_RECOGNITION_BACKENDS_H_

#include "clients/cpp/detector_client.h"
#include "clients/cpp/mask_client.h"
#include "services/recognition/face_analyzer.h"

namespace stratus::recognition {

class DetectorBackend : public FaceAnalyzer, public ObjectDetector {
 public:
  explicit DetectorBackend(const clients::DetectorClient::Options& options) : client_(options) {}

  absl::StatusOr<v1::AnalyzeFacesResponse> AnalyzeFaces(
      const v1::AnalyzeFacesRequest& request) override {
    return client_.AnalyzeFaces(request);
  }
  absl::StatusOr<v1::DetectResponse> Detect(const v1::DetectRequest& request) override {
    return client_.Detect(request);
  }

 private:
  clients::DetectorClient client_;
};

class MaskBackend : public MaskClassifier {
 public:
  explicit MaskBackend(const clients::MaskClient::Options& options) : client_(options) {}

  absl::StatusOr<v1::ClassifyResponse> Classify(const v1::ClassifyRequest& request) override {
    return client_.Classify(request);
  }

 private:
  clients::MaskClient client_;
};

}  // namespace stratus::recognition

#endif  // STRATUS_SERVICES_RECOGNITION_BACKENDS_H_
