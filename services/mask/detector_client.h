// FaceFinder over the detector service: asks clients::DetectorClient (Detect, model "faces")
// for the faces of an image. The channel connects lazily, so the mask service starts (and
// serves crops and boxes) while the detector is down.
//
// Errors: UNAVAILABLE naming the detector's address when it cannot be reached (or answers
// UNAVAILABLE / DEADLINE_EXCEEDED); the detector's other errors keep their code, prefixed with
// "face detector at ADDRESS: ".
//
// Thread safety: FindFaces may be called concurrently.
#ifndef STRATUS_SERVICES_MASK_DETECTOR_CLIENT_H_
#define STRATUS_SERVICES_MASK_DETECTOR_CLIENT_H_

#include <string>

#include "clients/cpp/detector_client.h"
#include "services/mask/mask.h"

namespace stratus::mask {

class DetectorFaceFinder final : public FaceFinder {
 public:
  // `model`: the face detection model on the detector.
  explicit DetectorFaceFinder(const clients::DetectorClient::Options& options,
                              std::string model = "faces");
  absl::StatusOr<std::vector<FaceBox>> FindFaces(std::string_view encoded,
                                                 float min_confidence) override;

 private:
  clients::DetectorClient client_;
  const std::string model_;
};

}  // namespace stratus::mask

#endif  // STRATUS_SERVICES_MASK_DETECTOR_CLIENT_H_
