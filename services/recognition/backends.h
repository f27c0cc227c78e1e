// The analysis backends over gRPC: the detector service (AnalyzeFaces, Detect) and the mask
// service (Classify). Channels connect lazily, so the recognition service starts while they are
// down; calls then fail with UNAVAILABLE. Thread-safe.
#ifndef STRATUS_SERVICES_RECOGNITION_BACKENDS_H_
#define STRATUS_SERVICES_RECOGNITION_BACKENDS_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "services/recognition/face_analyzer.h"
#include "stratus/v1/detector.grpc.pb.h"
#include "stratus/v1/mask.grpc.pb.h"

namespace stratus::recognition {

class DetectorClient : public FaceAnalyzer, public ObjectDetector {
 public:
  struct Options {
    std::string address = "localhost:50052";
    std::chrono::milliseconds timeout{30000};  // per call
    int max_message_bytes = 16 << 20;
  };
  explicit DetectorClient(const Options& options);

  absl::StatusOr<stratus::v1::AnalyzeFacesResponse> AnalyzeFaces(
      const stratus::v1::AnalyzeFacesRequest& request) override;
  absl::StatusOr<stratus::v1::DetectResponse> Detect(
      const stratus::v1::DetectRequest& request) override;

 private:
  Options options_;
  std::unique_ptr<stratus::v1::DetectorService::Stub> stub_;
};

class MaskClient : public MaskClassifier {
 public:
  struct Options {
    std::string address = "localhost:50054";
    std::chrono::milliseconds timeout{10000};
    int max_message_bytes = 16 << 20;
  };
  explicit MaskClient(const Options& options);

  absl::StatusOr<stratus::v1::ClassifyResponse> Classify(
      const stratus::v1::ClassifyRequest& request) override;

 private:
  Options options_;
  std::unique_ptr<stratus::v1::MaskService::Stub> stub_;
};

}  // namespace stratus::recognition

#endif  // STRATUS_SERVICES_RECOGNITION_BACKENDS_H_
