#include "services/mask/mask.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"

namespace stratus::mask {
namespace {

using Clock = std::chrono::steady_clock;

float Area(const runtime::Box& b) { return b.width * b.height; }

absl::Status CheckImage(const cv::Mat& image, const std::string& what) {
  if (image.empty() || image.cols <= 0 || image.rows <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  }
  if (image.type() != CV_8UC3) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not 8-bit RGB"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<MaskClassifier>> MaskClassifier::Create(
    const MaskOptions& options) {
  if (options.model_dir.empty()) {
    return absl::InvalidArgumentError("mask: the model repository (model_dir) is not set");
  }
  if (options.model.empty()) return absl::InvalidArgumentError("mask: the model name is empty");
  if (options.max_batch < 1 || options.max_batch > 256) {
    return absl::InvalidArgumentError(
        absl::StrCat("mask: max_batch must be within 1..256, got ", options.max_batch));
  }
  for (float m : {options.margin_x, options.margin_top, options.margin_bottom}) {
    if (!std::isfinite(m) || m < 0.0f || m > 2.0f) {
      return absl::InvalidArgumentError(
          absl::StrCat("mask: crop margins must be within [0, 2], got ", m));
    }
  }
  return std::unique_ptr<MaskClassifier>(new MaskClassifier(options));
}

MaskClassifier::MaskClassifier(const MaskOptions& options)
    : options_(options), lifecycle_(absl::StrCat("the mask model '", options.model, "'")) {
  options_.runtime.max_batch_size = options_.max_batch;
  if (options_.metrics != nullptr) {
    faces_total_ = &metrics::BuildCounter()
                        .Name("stratus_mask_faces_total")
                        .Help("Faces classified, by predicted label.")
                        .Register(*options_.metrics);
    batch_sizes_ = &metrics::BuildHistogram()
                        .Name("stratus_mask_batch_size")
                        .Help("Faces per forward of the mask model.")
                        .Register(*options_.metrics)
                        .Add({{"model", options_.model}}, metrics::BatchBuckets());
    inference_seconds_ = &metrics::BuildHistogram()
                              .Name("stratus_mask_inference_seconds")
                              .Help("Preprocessing + forward + decoding of one batch.")
                              .Register(*options_.metrics)
                              .Add({{"model", options_.model}},
                                   metrics::LatencyBuckets());
  }
}

MaskClassifier::~MaskClassifier() = default;

absl::Status MaskClassifier::Load() {
  lifecycle_.Run([this] { return LoadModel(); }).IgnoreError();
  return lifecycle_.Readiness();
}

absl::Status MaskClassifier::LoadModel() {
  absl::Status status;
  std::unique_ptr<runtime::ModelRepository> repository;
  const runtime::Model* model = nullptr;
  auto repo = runtime::ModelRepository::Load(options_.model_dir, {options_.model},
                                             options_.runtime);
  if (!repo.ok()) {
    status = repo.status();
  } else {
    repository = std::move(*repo);
    auto got = repository->Get(options_.model);
    if (!got.ok()) {
      status = got.status();
    } else if ((*got)->config().decoder_type != "classifier") {
      status = absl::InvalidArgumentError(
          absl::StrCat("model '", options_.model, "' has decoder '",
                       (*got)->config().decoder_type, "'; the mask service needs 'classifier'"));
    } else if ((*got)->config().labels.empty()) {
      status = absl::InvalidArgumentError(
          absl::StrCat("model '", options_.model, "' lists no labels in its config.yaml"));
    } else {
      model = *got;
    }
  }
  if (!status.ok()) {
    // Readiness reports it; requests get UNAVAILABLE (retry another replica).
    SLOG(ERROR) << "mask model failed to load" << Kv("model", options_.model)
                << Kv("error", status.message());
    return status;
  }
  SLOG(INFO) << "mask model ready" << Kv("model", options_.model)
             << Kv("version", model->config().version) << Kv("device", model->device())
             << Kv("layout", model->layout()) << Kv("load_ms", model->load_ms())
             << Kv("labels", absl::StrJoin(model->config().labels, ","));
  std::lock_guard<std::mutex> lock(mu_);
  repository_ = std::move(repository);
  model_ = model;
  return absl::OkStatus();
}

void MaskClassifier::StartLoading(std::function<void()> on_done) {
  lifecycle_.Start([this] { return LoadModel(); }, std::move(on_done));
}

absl::Status MaskClassifier::Readiness() const { return lifecycle_.Readiness(); }

absl::StatusOr<const runtime::Model*> MaskClassifier::ReadyModel() const {
  if (absl::Status ready = lifecycle_.Readiness(); !ready.ok()) return ready;
  std::lock_guard<std::mutex> lock(mu_);
  return model_;
}

std::string MaskClassifier::version() const {
  auto model = ReadyModel();
  return model.ok() ? (*model)->config().version : "";
}

std::vector<std::string> MaskClassifier::labels() const {
  auto model = ReadyModel();
  return model.ok() ? (*model)->config().labels : std::vector<std::string>{};
}

absl::StatusOr<cv::Rect> MaskClassifier::CropRect(const runtime::Box& box, int width,
                                                  int height) const {
  if (!std::isfinite(box.left) || !std::isfinite(box.top) || !std::isfinite(box.width) ||
      !std::isfinite(box.height)) {
    return absl::InvalidArgumentError("a face box has a non-finite coordinate");
  }
  if (box.width <= 0 || box.height <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("a face box has non-positive size (",
                                                   box.width, " x ", box.height, ")"));
  }
  const double x1 = (box.left - options_.margin_x * box.width) * width;
  const double x2 = (box.left + (1.0 + options_.margin_x) * box.width) * width;
  const double y1 = (box.top - options_.margin_top * box.height) * height;
  const double y2 = (box.top + (1.0 + options_.margin_bottom) * box.height) * height;
  // Edges rounded to the nearest pixel (floor/ceil would grow a crop by a pixel on float noise).
  auto px = [](double v, int limit) {
    return static_cast<int>(std::lround(std::clamp(v, 0.0, static_cast<double>(limit))));
  };
  const int ix1 = px(x1, width), iy1 = px(y1, height), ix2 = px(x2, width),
            iy2 = px(y2, height);
  // The face box itself (without margin) must cover part of the image: a box wholly outside
  // is a caller's mistake, not a face to classify from the margin alone.
  const bool face_inside = box.left < 1.0f && box.top < 1.0f && box.left + box.width > 0.0f &&
                           box.top + box.height > 0.0f;
  if (!face_inside || ix2 - ix1 < 1 || iy2 - iy1 < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "face box (left ", box.left, ", top ", box.top, ", width ", box.width, ", height ",
        box.height, ") lies outside the ", width, "x", height, " image"));
  }
  return cv::Rect(ix1, iy1, ix2 - ix1, iy2 - iy1);
}

absl::StatusOr<std::vector<FaceMaskResult>> MaskClassifier::Run(
    absl::Span<const cv::Mat> crops, absl::Span<const FaceBox> faces) const {
  auto model_or = ReadyModel();
  if (!model_or.ok()) return model_or.status();
  const runtime::Model* model = *model_or;
  const std::vector<std::string>& labels = model->config().labels;
  std::vector<FaceMaskResult> results;
  results.reserve(crops.size());
  for (size_t start = 0; start < crops.size(); start += options_.max_batch) {
    const size_t n = std::min<size_t>(options_.max_batch, crops.size() - start);
    const auto t0 = Clock::now();
    auto predictions = model->Run(crops.subspan(start, n));
    if (!predictions.ok()) return predictions.status();
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (batch_sizes_ != nullptr) batch_sizes_->Observe(static_cast<double>(n));
    if (inference_seconds_ != nullptr) inference_seconds_->Observe(seconds);
    for (size_t i = 0; i < n; ++i) {
      const std::vector<float>& p = (*predictions)[i].probabilities;
      if (p.size() != labels.size()) {
        return absl::InternalError(absl::StrCat("model '", options_.model, "' returned ",
                                                p.size(), " scores for ", labels.size(),
                                                " labels"));
      }
      FaceMaskResult r;
      r.face = faces[start + i];
      r.probabilities = p;
      const size_t best = static_cast<size_t>(std::max_element(p.begin(), p.end()) - p.begin());
      r.label = labels[best];
      r.confidence = p[best];
      if (faces_total_ != nullptr) faces_total_->Add({{"label", r.label}}).Increment();
      results.push_back(std::move(r));
    }
  }
  return results;
}

absl::StatusOr<std::vector<FaceMaskResult>> MaskClassifier::ClassifyCrops(
    absl::Span<const cv::Mat> crops) const {
  for (size_t i = 0; i < crops.size(); ++i) {
    if (auto s = CheckImage(crops[i], absl::StrCat("crop ", i)); !s.ok()) return s;
  }
  std::vector<FaceBox> faces(crops.size(), FaceBox{runtime::Box{0, 0, 1, 1}, 1.0f});
  return Run(crops, faces);
}

absl::StatusOr<std::vector<FaceMaskResult>> MaskClassifier::ClassifyBoxes(
    const cv::Mat& image, absl::Span<const FaceBox> boxes) const {
  if (auto s = CheckImage(image, "the image"); !s.ok()) return s;
  std::vector<cv::Mat> crops;
  crops.reserve(boxes.size());
  for (size_t i = 0; i < boxes.size(); ++i) {
    auto rect = CropRect(boxes[i].box, image.cols, image.rows);
    if (!rect.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("box ", i, ": ", rect.status().message()));
    }
    crops.push_back(image(*rect));  // an ROI: the runtime reads it without a copy
  }
  return Run(crops, boxes);
}

absl::StatusOr<std::vector<FaceMaskResult>> MaskClassifier::ClassifyImage(
    const cv::Mat& image, std::string_view encoded, float min_face_confidence,
    FaceFinder* finder) const {
  if (auto s = CheckImage(image, "the image"); !s.ok()) return s;
  // Fail fast (and without a detector round trip) when the model is not there.
  if (auto model = ReadyModel(); !model.ok()) return model.status();
  if (finder == nullptr) {
    return absl::UnavailableError(
        "no detector is configured: give face boxes or crops, or start the mask service with "
        "--detector");
  }
  auto faces = finder->FindFaces(encoded, min_face_confidence);
  if (!faces.ok()) return faces.status();
  // Boxes from the detector are clipped to the image; drop the degenerate ones it may return.
  std::vector<FaceBox> kept;
  for (const FaceBox& f : *faces) {
    if (f.box.width > 0 && f.box.height > 0 && f.confidence >= min_face_confidence) {
      kept.push_back(f);
    }
  }
  std::stable_sort(kept.begin(), kept.end(), [](const FaceBox& a, const FaceBox& b) {
    return Area(a.box) > Area(b.box);
  });
  return ClassifyBoxes(image, kept);
}

}  // namespace stratus::mask
