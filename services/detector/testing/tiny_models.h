// Tiny TorchScript detection models written by tests (built with torch::jit::Module::define, no
// Python), so the detector can be tested end to end without the imported models.
//
// "objects" (task object_detection, ssd decoder, labels [person, car, dog], stretch to 32x32):
//   three fixed, non-overlapping boxes; the first is a "person" whose confidence is the mean
//   brightness of the image (0..1), so a test can tell images apart by their detections; the
//   second a "car" at 0.9, the third a "dog" at 0.3. Each forward also pays a fixed cost (a
//   192x192 matrix product) so that batching pays off.
// "faces" (task face_detection, ssd decoder, labels [face], pad_bottom_right 32x32): one box at
//   (0.25, 0.25)-(0.75, 0.75) of the padded input with the mean brightness as its score.
// "face_expression" (task face_expression, classifier): a non-detector model.
// "broken": a config naming an unknown decoder (the repository lists it FAILED).
//
// Header without LibTorch; the .cc includes <torch/script.h>.
#ifndef STRATUS_SERVICES_DETECTOR_TESTING_TINY_MODELS_H_
#define STRATUS_SERVICES_DETECTOR_TESTING_TINY_MODELS_H_

#include <string>

#include "absl/status/status.h"

namespace stratus::detector::testing {

// Writes the four folders above into `dir` (created if needed).
absl::Status WriteTinyModels(const std::string& dir);

}  // namespace stratus::detector::testing

#endif  // STRATUS_SERVICES_DETECTOR_TESTING_TINY_MODELS_H_
