// FaceFinder over gRPC: asks the detector service (stratus.v1.DetectorService/Detect, model
// "faces") for the faces of an image. The channel connects lazily, so the mask service starts
// (and serves crops and boxes) while the detector is down.
//
// Errors: UNAVAILABLE naming the detector's address when it cannot be reached (or answers
// UNAVAILABLE / DEADLINE_EXCEEDED); the detector's other errors keep their code, prefixed with
// "detector at ADDRESS: ".
//
// Thread safety: FindFaces may be called concurrently (gRPC stubs are thread-safe).
#ifndef STRATUS_SERVICES_MASK_DETECTOR_CLIENT_H_
#define STRATUS_SERVICES_MASK_DETECTOR_CLIENT_H_

#include <chrono>
#include <memory>
#include <string>

#include "services/mask/mask.h"
#include "stratus/v1/detector.grpc.pb.h"

namespace stratus::mask {

struct DetectorClientOptions {
  std::string address = "localhost:50052";  // HOST:PORT of the detector
  std::string model = "faces";              // face detection model on the detector
  std::chrono::milliseconds timeout{10000}; // deadline of each Detect
  int max_message_bytes = 16 << 20;
};

class DetectorClient final : public FaceFinder {
 public:
  explicit DetectorClient(const DetectorClientOptions& options);
  absl::StatusOr<std::vector<FaceBox>> FindFaces(std::string_view encoded,
                                                 float min_confidence) override;

 private:
  DetectorClientOptions options_;
  std::unique_ptr<stratus::v1::DetectorService::Stub> stub_;
};

}  // namespace stratus::mask

#endif  // STRATUS_SERVICES_MASK_DETECTOR_CLIENT_H_
