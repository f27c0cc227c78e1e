#include "runtime/object_detector.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "runtime/model.h"
#include "runtime/model_repository.h"

namespace stratus::runtime {

absl::StatusOr<std::unique_ptr<ObjectDetector>> ObjectDetector::Create(
    const ModelRepository& repo, const std::string& name) {
  auto model = repo.Get(name);
  if (!model.ok()) return model.status();
  const std::string& task = (*model)->config().task;
  if (task != "object_detection" && task != "face_detection") {
    return absl::InvalidArgumentError(absl::StrCat("model '", name, "' is a ", task,
                                                   " model, not a detector"));
  }
  return std::unique_ptr<ObjectDetector>(new ObjectDetector(*model));
}

const std::string& ObjectDetector::name() const { return model_->name(); }
const std::vector<std::string>& ObjectDetector::labels() const {
  return model_->config().labels;
}

absl::StatusOr<std::vector<std::vector<Detection>>> ObjectDetector::Detect(
    absl::Span<const cv::Mat> images, const DetectOptions& options) const {
  DecodeOptions d;
  if (options.min_confidence) {
    if (!(*options.min_confidence >= 0 && *options.min_confidence <= 1)) {
      return absl::InvalidArgumentError("min_confidence must be within [0, 1]");
    }
    d.min_confidence = options.min_confidence;
  }
  if (options.max_results) {
    if (*options.max_results <= 0) return absl::InvalidArgumentError("max_results must be > 0");
    d.max_results = options.max_results;
  }
  const std::vector<std::string>& labels = model_->config().labels;
  for (const std::string& c : options.classes) {
    auto it = std::find(labels.begin(), labels.end(), c);
    if (it == labels.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("model '", name(), "' has no class '", c, "'"));
    }
    d.classes.push_back(static_cast<int>(it - labels.begin()));
  }
  for (size_t i = 0; i < images.size(); ++i) {
    if (images[i].empty() || images[i].type() != CV_8UC3) {
      return absl::InvalidArgumentError(
          absl::StrCat("image ", i, ": expected a non-empty 8-bit RGB image"));
    }
  }
  auto predictions = model_->Run(images, d);
  if (!predictions.ok()) return predictions.status();
  std::vector<std::vector<Detection>> out;
  out.reserve(predictions->size());
  for (Prediction& p : *predictions) out.push_back(std::move(p.detections));
  return out;
}

}  // namespace stratus::runtime
