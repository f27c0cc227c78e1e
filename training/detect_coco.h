// Runs a detection model of the repository over a COCO image set, through
// runtime::ObjectDetector (the path the detector service takes: the same decoding, image
// decoding by common/image), and returns the detections as COCO results for EvaluateCoco().
#ifndef STRATUS_TRAINING_DETECT_COCO_H_
#define STRATUS_TRAINING_DETECT_COCO_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/object_detector.h"
#include "training/detection_eval.h"

namespace stratus::training {

struct DetectCocoOptions {
  std::string image_dir;           // where the dataset's file_name values are
  float min_confidence = 0.01f;    // low: AP integrates over every score
  int max_results = 100;           // per image (COCO's maxDets)
  int batch_size = 4;              // images per Detect() call
  std::vector<int64_t> image_ids;  // only these images (empty: all)
  // Called after each batch with (images done, images in all).
  std::function<void(int64_t, int64_t)> progress;
};

// Detections whose label is not a category of the dataset are dropped. NotFound /
// InvalidArgument for an image that cannot be read or decoded (naming it).
absl::StatusOr<std::vector<CocoBox>> DetectCoco(const runtime::ObjectDetector& detector,
                                                const CocoDataset& dataset,
                                                const DetectCocoOptions& options);

}  // namespace stratus::training

#endif  // STRATUS_TRAINING_DETECT_COCO_H_
