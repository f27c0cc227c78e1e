// Object (or face) detection on one model of the repository: boxes as fractions of the image,
// like Rekognition's BoundingBox.
//
//   auto detector = ObjectDetector::Create(*repo, "objects");
//   DetectOptions o; o.min_confidence = 0.4f; o.classes = {"person", "car"};
//   auto per_image = (*detector)->Detect({rgb1, rgb2}, o);
//
// A batch of images that each came with options of their own (the detector service's batcher
// gathers them from concurrent callers) runs in one forward:
//   auto options = detector->Resolve(o);               // validated once, class names to ids
//   auto per_image = detector->DetectEach({a, b}, {*options_a, *options_b});
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

inline constexpr int kMaxDetectionsPerImage = 1000;

struct DetectOptions {
  // Minimum confidence (0..1). Unset: the model config's score_threshold.
  std::optional<float> min_confidence;
  // Labels of interest (empty: all). An unknown label is InvalidArgument.
  std::vector<std::string> classes;
  // At most this many detections per image (1..kMaxDetectionsPerImage). Unset: the config's
  // max_results.
  std::optional<int> max_results;
};

class ObjectDetector {
 public:
  // NotFound / FailedPrecondition if the model is missing or FAILED; InvalidArgument if its
  // task is not object_detection or face_detection.
  static absl::StatusOr<std::unique_ptr<ObjectDetector>> Create(const ModelRepository& repo,
                                                                const std::string& model);

  // The options checked against this model, class names turned into ids: InvalidArgument for
  // a confidence outside [0, 1], max_results outside 1..kMaxDetectionsPerImage or an unknown
  // class.
  absl::StatusOr<DecodeOptions> Resolve(const DetectOptions& options) const;

  // Per image (8-bit RGB), the detections by decreasing confidence. InvalidArgument for an
  // empty/non-RGB image and for what Resolve() refuses.
  absl::StatusOr<std::vector<std::vector<Detection>>> Detect(absl::Span<const cv::Mat> rgb_images,
                                                             const DetectOptions& options) const;
  // One forward for all images, image i filtered by options[i] (from Resolve(), with
  // min_confidence and max_results set: InvalidArgument otherwise): decoded once
  // with the loosest options (lowest threshold, no class filter, the largest cap), then each
  // image's own filter. Greedy NMS never lets a lower-scored box suppress a higher one, so each
  // image gets what a decode with its own options would. `forward_ms`, when set, receives the
  // wall time of preprocessing and forward.
  absl::StatusOr<std::vector<std::vector<Detection>>> DetectEach(
      absl::Span<const cv::Mat> rgb_images, absl::Span<const DecodeOptions> options,
      double* forward_ms = nullptr) const;

  const std::string& name() const;
  const std::vector<std::string>& labels() const;
  const Model& model() const { return *model_; }

 private:
  explicit ObjectDetector(const Model* model) : model_(model) {}
  const Model* model_;
};

}  // namespace stratus::runtime

#endif  // STRATUS_RUNTIME_OBJECT_DETECTOR_H_
