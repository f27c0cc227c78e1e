#include "training/mask_eval.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/face_pipeline.h"
#include "runtime/model.h"
#include "runtime/model_repository.h"
#include "training/data.h"

namespace stratus::training {
namespace {

namespace fs = std::filesystem;

const std::map<std::string, int>& FolderClasses() {
  static const auto* m = new std::map<std::string, int>{{"with_mask", kWithMask},
                                                        {"correct", kWithMask},
                                                        {"without_mask", kWithoutMask},
                                                        {"mask_worn_incorrectly", kWornIncorrectly},
                                                        {"incorrect", kWornIncorrectly}};
  return *m;
}

double Ratio(int a, int b) { return b == 0 ? std::nan("") : static_cast<double>(a) / b; }

uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (const unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

cv::Rect MaskServiceCrop(double x, double y, double box_width, double box_height, int width,
                         int height) {
  // The detector reports boxes clamped to the image; the service grows those.
  const double x1c = std::clamp(x, 0.0, static_cast<double>(width));
  const double y1c = std::clamp(y, 0.0, static_cast<double>(height));
  const double bw = std::clamp(x + box_width, 0.0, static_cast<double>(width)) - x1c;
  const double bh = std::clamp(y + box_height, 0.0, static_cast<double>(height)) - y1c;
  auto px = [](double v, int limit) {
    return static_cast<int>(std::lround(std::clamp(v, 0.0, static_cast<double>(limit))));
  };
  const int ix1 = px(x1c - 0.18 * bw, width);
  const int ix2 = px(x1c + 1.18 * bw, width);
  const int iy1 = px(y1c - 0.15 * bh, height);
  const int iy2 = px(y1c + 1.19 * bh, height);
  if (ix2 - ix1 < 1 || iy2 - iy1 < 1) return cv::Rect();
  return cv::Rect(ix1, iy1, ix2 - ix1, iy2 - iy1);
}

MaskSplit MaskSplitOf(const std::string& file_name) {
  const int bucket = static_cast<int>(Fnv1a(file_name) % 10);
  return bucket == 0 ? MaskSplit::kTest : bucket == 1 ? MaskSplit::kValidation : MaskSplit::kTrain;
}

MaskSplit DevSetSplitOf(const std::string& file_name) {
  const int bucket = static_cast<int>((Fnv1a(file_name) >> 7) % 5);
  return bucket < 2 ? MaskSplit::kTrain : bucket == 2 ? MaskSplit::kValidation : MaskSplit::kTest;
}

absl::StatusOr<std::vector<LabelledPhoto>> ListLabelledPhotos(const std::string& dir, int sample,
                                                              std::optional<MaskSplit> part) {
  std::vector<LabelledPhoto> out;
  bool any = false;
  for (const auto& [folder, cls] : FolderClasses()) {
    const fs::path p = fs::path(dir) / folder;
    if (!fs::is_directory(p)) continue;
    any = true;
    std::vector<std::string> files = ListImages(p.string());
    if (part) {
      std::erase_if(files, [&](const std::string& f) {
        return DevSetSplitOf(fs::path(f).filename().string()) != *part;
      });
    }
    for (size_t i = 0; i < files.size(); i += std::max(1, sample)) out.push_back({files[i], cls});
  }
  if (!any) {
    return absl::NotFoundError(absl::StrCat(dir,
                                            " has no class folder (with_mask, without_mask, "
                                            "mask_worn_incorrectly, correct, incorrect)"));
  }
  return out;
}

absl::StatusOr<std::vector<LabelledPhoto>> ListHeldOutMaskPhotos(const std::string& dir,
                                                                 int sample) {
  std::vector<LabelledPhoto> out;
  for (const int cls : {kWithMask, kWithoutMask}) {
    const fs::path p = fs::path(dir) / kMaskClassNames[cls];
    if (!fs::is_directory(p)) return absl::NotFoundError(absl::StrCat("no folder ", p.string()));
    int kept = 0;
    for (const std::string& f : ListImages(p.string())) {
      if (MaskSplitOf(fs::path(f).filename().string()) != MaskSplit::kTest) continue;
      if (kept++ % std::max(1, sample) == 0) out.push_back({f, cls});
    }
  }
  return out;
}

double MaskEvalReport::Accuracy() const {
  int right = 0;
  for (int c = 0; c < 3; ++c) right += confusion[c][c];
  return Ratio(right, photos);
}

double MaskEvalReport::Recall(int c) const {
  int n = 0;
  for (int p = 0; p < 3; ++p) n += confusion[c][p];
  return Ratio(confusion[c][c], n);
}

double MaskEvalReport::Precision(int c) const {
  int n = 0;
  for (int t = 0; t < 3; ++t) n += confusion[t][c];
  return Ratio(confusion[c][c], n);
}

double MaskEvalReport::CoveredAccuracy() const {
  int right = 0;
  for (int t = 0; t < 3; ++t) {
    for (int p = 0; p < 3; ++p) {
      if ((t == kWithoutMask) == (p == kWithoutMask)) right += confusion[t][p];
    }
  }
  return Ratio(right, photos);
}

std::string MaskEvalReport::Format(const std::string& title) const {
  std::string s = absl::StrFormat(
      "%s: %d photos (%d without a detected face, classified whole)\n"
      "  three-class accuracy %.3f   face-covered accuracy %.3f\n",
      title, photos, no_face, Accuracy(), CoveredAccuracy());
  for (int c = 0; c < 3; ++c) {
    int n = 0;
    for (int p = 0; p < 3; ++p) n += confusion[c][p];
    absl::StrAppendFormat(&s, "  %-22s n=%-4d recall %.3f (%d/%d)  precision %.3f\n",
                          kMaskClassNames[c], n, Recall(c), confusion[c][c], n, Precision(c));
  }
  absl::StrAppend(&s, "  confusion (rows truth, columns predicted: with / without / incorrect)\n");
  for (int c = 0; c < 3; ++c) {
    absl::StrAppendFormat(&s, "  %-22s %5d %5d %5d\n", kMaskClassNames[c], confusion[c][0],
                          confusion[c][1], confusion[c][2]);
  }
  return s;
}

MaskEvaluator::~MaskEvaluator() = default;

absl::StatusOr<std::unique_ptr<MaskEvaluator>> MaskEvaluator::Create(
    const MaskEvalOptions& options) {
  auto e = std::unique_ptr<MaskEvaluator>(new MaskEvaluator);
  e->options_ = options;
  runtime::RuntimeOptions ro;
  ro.num_threads = 1;
  auto repo = runtime::ModelRepository::Load(options.model_dir, {"faces"}, ro);
  if (!repo.ok()) return repo.status();
  e->repo_ = std::move(*repo);
  runtime::FacePipeline::Options po;
  po.allow_missing_stages = true;
  auto pipeline = runtime::FacePipeline::Create(*e->repo_, po);
  if (!pipeline.ok()) return pipeline.status();
  e->pipeline_ = std::move(*pipeline);
  std::vector<std::string> mask_dirs = options.mask_dirs;
  if (mask_dirs.empty()) mask_dirs.push_back(options.model_dir + "/mask");
  for (const std::string& mask_dir : mask_dirs) {
    auto classifier = runtime::Model::Load(mask_dir, ro);
    if (!classifier.ok()) return classifier.status();
    const auto& labels = (*classifier)->config().labels;
    if (labels.size() != 3) {
      return absl::InvalidArgumentError(
          absl::StrCat(mask_dir, ": a mask classifier has 3 labels, not ", labels.size()));
    }
    std::array<int, 3> class_of_output{};
    for (size_t i = 0; i < 3; ++i) {
      const auto it = std::find(kMaskClassNames.begin(), kMaskClassNames.end(), labels[i]);
      if (it == kMaskClassNames.end()) {
        return absl::InvalidArgumentError(absl::StrCat(mask_dir, ": unknown label ", labels[i]));
      }
      class_of_output[i] = static_cast<int>(it - kMaskClassNames.begin());
    }
    e->classifiers_.push_back(std::move(*classifier));
    e->class_of_output_.push_back(class_of_output);
  }
  return e;
}

absl::StatusOr<std::vector<PhotoPrediction>> MaskEvaluator::FindFaces(
    const cv::Mat& rgb, int max_faces, std::vector<cv::Mat>* crops) const {
  runtime::AnalyzeOptions ao;
  ao.min_confidence = options_.min_face_confidence;
  ao.max_faces = std::max(1, max_faces);
  ao.landmarks = ao.descriptor = ao.age_gender = ao.expressions = ao.quality = false;
  auto faces = pipeline_->Analyze({rgb}, ao);
  if (!faces.ok()) return faces.status();
  std::vector<PhotoPrediction> out;
  for (const runtime::Face& f : (*faces)[0]) {
    const runtime::PixelRect& b = f.box_pixels;
    const cv::Rect r = options_.tight
                           ? runtime::ClipAtImageBorders(b, rgb.cols, rgb.rows)
                           : MaskServiceCrop(b.x, b.y, b.width, b.height, rgb.cols, rgb.rows);
    if (r.width < 4 || r.height < 4) continue;
    out.push_back({.face_found = true, .crop = r});
    crops->push_back(rgb(r));
  }
  if (out.empty()) {
    out.push_back({.face_found = false, .crop = cv::Rect(0, 0, rgb.cols, rgb.rows)});
    crops->push_back(rgb);
  }
  return out;
}

absl::Status MaskEvaluator::Classify(size_t classifier, const std::vector<cv::Mat>& crops,
                                     std::vector<PhotoPrediction>* out) const {
  auto preds = classifiers_[classifier]->Run(crops);
  if (!preds.ok()) return preds.status();
  for (size_t j = 0; j < out->size(); ++j) {
    PhotoPrediction& o = (*out)[j];
    const std::vector<float>& p = (*preds)[j].probabilities;
    if (p.size() != 3) return absl::InternalError("the classifier did not return 3 probabilities");
    for (size_t i = 0; i < 3; ++i) o.probabilities[class_of_output_[classifier][i]] = p[i];
    o.predicted = static_cast<int>(
        std::max_element(o.probabilities.begin(), o.probabilities.end()) - o.probabilities.begin());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<PhotoPrediction>> MaskEvaluator::ClassifyFaces(const cv::Mat& bgr,
                                                                          int max_faces,
                                                                          size_t classifier) const {
  if (classifier >= classifiers_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("no classifier ", classifier));
  }
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  std::vector<cv::Mat> crops;
  auto out = FindFaces(rgb, max_faces, &crops);
  if (!out.ok()) return out.status();
  if (absl::Status s = Classify(classifier, crops, &*out); !s.ok()) return s;
  return out;
}

absl::StatusOr<MaskEvalReport> MaskEvaluator::Evaluate(
    absl::Span<const LabelledPhoto> photos) const {
  auto reports = EvaluateEach(photos);
  if (!reports.ok()) return reports.status();
  return (*reports)[0];
}

absl::StatusOr<std::vector<MaskEvalReport>> MaskEvaluator::EvaluateEach(
    absl::Span<const LabelledPhoto> photos) const {
  std::vector<MaskEvalReport> reports(classifiers_.size());
  for (const LabelledPhoto& photo : photos) {
    const cv::Mat bgr = cv::imread(photo.path, cv::IMREAD_COLOR);
    if (bgr.empty()) return absl::InvalidArgumentError(absl::StrCat("cannot read ", photo.path));
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    std::vector<cv::Mat> crops;
    auto pred = FindFaces(rgb, 1, &crops);
    if (!pred.ok()) {
      return absl::Status(pred.status().code(),
                          absl::StrCat(photo.path, ": ", pred.status().message()));
    }
    for (size_t k = 0; k < classifiers_.size(); ++k) {
      if (absl::Status s = Classify(k, crops, &*pred); !s.ok()) {
        return absl::Status(s.code(), absl::StrCat(photo.path, ": ", s.message()));
      }
      MaskEvalReport& report = reports[k];
      ++report.photos;
      report.no_face += !(*pred)[0].face_found;
      ++report.confusion[photo.truth][(*pred)[0].predicted];
    }
  }
  return reports;
}

}  // namespace stratus::training
