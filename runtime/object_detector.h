// Object (or face) detection on one model of the repository: boxes as fractions of the image,
// like Rekognition's BoundingBox.
//
//   auto detector = ObjectDetector::Create(*repo, "objects");
//   DetectOptions o; o.min_confidence = 0.4f; o.classes = {"person", "car"};
//   auto per_image = (*detector)->Detect({rgb1, rgb2}, o);
//
// Works with every detection decoder (ssd, yolo, nanodet, ...). Thread safety: Detect() is const
// and may be called concurrently; the repository must outlive the detector.
#ifndef STRATUS_RUNTIME_OBJECT_DETECTOR_H_
#define STRATUS_RUNTIME_OBJECT_DETECTOR_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/decoder.h"

namespace stratus::runtime {

class Model;
class ModelRepository;

struct DetectOptions {
  // Minimum confidence (0..1). Unset: the model config's score_threshold.
  std::optional<float> min_confidence;
  // Labels of interest (empty: all). An unknown label is InvalidArgument.
  std::vector<std::string> classes;
  // At most this many detections per image. Unset: the config's max_results.
  std::optional<int> max_results;
};

class ObjectDetector {
 public:
  // NotFound / FailedPrecondition if the model is missing or FAILED; InvalidArgument if its
  // task is not object_detection or face_detection.
  static absl::StatusOr<std::unique_ptr<ObjectDetector>> Create(const ModelRepository& repo,
                                                                const std::string& model);

  // Per image (8-bit RGB), the detections by decreasing confidence. InvalidArgument for an
  // empty/non-RGB image, an unknown class or a confidence outside [0, 1].
  absl::StatusOr<std::vector<std::vector<Detection>>> Detect(absl::Span<const cv::Mat> rgb_images,
                                                             const DetectOptions& options) const;

  const std::string& name() const;
  const std::vector<std::string>& labels() const;
  const Model& model() const { return *model_; }

 private:
  explicit ObjectDetector(const Model* model) : model_(model) {}
  const Model* model_;
};

}  // namespace stratus::runtime

#endif  // STRATUS_RUNTIME_OBJECT_DETECTOR_H_
