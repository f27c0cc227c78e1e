#include "runtime/object_detector.h"

#include <algorithm>
#include <chrono>

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

absl::StatusOr<DecodeOptions> ObjectDetector::Resolve(const DetectOptions& options) const {
  DecodeOptions d;
  if (options.min_confidence) {
    if (!(*options.min_confidence >= 0 && *options.min_confidence <= 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat("min_confidence must be within [0, 1], got ", *options.min_confidence));
    }
    d.min_confidence = options.min_confidence;
  }
  if (options.max_results) {
    if (*options.max_results < 1 || *options.max_results > kMaxDetectionsPerImage) {
      return absl::InvalidArgumentError(absl::StrCat("max_results must be within 1..",
                                                     kMaxDetectionsPerImage, ", got ",
                                                     *options.max_results));
    }
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
  return d;
}

absl::StatusOr<std::vector<std::vector<Detection>>> ObjectDetector::Detect(
    absl::Span<const cv::Mat> images, const DetectOptions& options) const {
  auto d = Resolve(options);
  if (!d.ok()) return d.status();
  for (size_t i = 0; i < images.size(); ++i) {
    if (images[i].empty() || images[i].type() != CV_8UC3) {
      return absl::InvalidArgumentError(
          absl::StrCat("image ", i, ": expected a non-empty 8-bit RGB image"));
    }
  }
  auto predictions = model_->Run(images, *d);
  if (!predictions.ok()) return predictions.status();
  std::vector<std::vector<Detection>> out;
  out.reserve(predictions->size());
  for (Prediction& p : *predictions) out.push_back(std::move(p.detections));
  return out;
}

absl::StatusOr<std::vector<std::vector<Detection>>> ObjectDetector::DetectEach(
    absl::Span<const cv::Mat> images, absl::Span<const DecodeOptions> options,
    double* forward_ms) const {
  if (images.size() != options.size()) {
    return absl::InvalidArgumentError(absl::StrCat(images.size(), " images but ", options.size(),
                                                   " options"));
  }
  DecodeOptions merged;
  merged.min_confidence = 1.0f;
  merged.max_results = 1;
  for (const DecodeOptions& o : options) {
    if (!o.min_confidence || !o.max_results) {
      return absl::InvalidArgumentError("DetectEach needs min_confidence and max_results set");
    }
    merged.min_confidence = std::min(*merged.min_confidence, *o.min_confidence);
    merged.max_results = std::max(*merged.max_results, *o.max_results);
    if (!o.classes.empty()) merged.max_results = kMaxDetectionsPerImage;  // filtered afterwards
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<InputGeometry> geometry;
  auto outputs = model_->Forward(images, &geometry);
  if (!outputs.ok()) return outputs.status();
  if (forward_ms != nullptr) {
    *forward_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                            start).count();
  }
  auto predictions = model_->decoder().Decode(*outputs, geometry, merged);
  if (!predictions.ok()) return predictions.status();
  if (predictions->size() != images.size()) {
    return absl::InternalError(absl::StrCat("model '", name(), "': decoder returned ",
                                            predictions->size(), " predictions for ",
                                            images.size(), " images"));
  }
  std::vector<std::vector<Detection>> out(images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    const DecodeOptions& o = options[i];
    const float min_confidence = *o.min_confidence;
    const size_t max_results = static_cast<size_t>(*o.max_results);
    std::vector<Detection>& kept = out[i];
    for (Detection& d : (*predictions)[i].detections) {
      if (kept.size() >= max_results) break;
      if (d.confidence < min_confidence) continue;
      if (!o.classes.empty() &&
          std::find(o.classes.begin(), o.classes.end(), d.class_id) == o.classes.end()) {
        continue;
      }
      kept.push_back(std::move(d));
    }
    std::stable_sort(kept.begin(), kept.end(), [](const Detection& a, const Detection& b) {
      return a.confidence > b.confidence;
    });
  }
  return out;
}

}  // namespace stratus::runtime
