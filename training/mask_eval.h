// Evaluation of a trained mask classifier on labelled photos, the way the mask service sees
// them: the imported face detector (`faces`) finds the faces, the most confident one is cut as
// the service cuts it (MaskServiceCrop: the box grown by the service's margins) and classified.
// A photo where no face is found is classified whole (as a crop, like ClassifyCrops) and
// counted apart, so every photo has a prediction.
//
//   auto eval = MaskEvaluator::Create({.model_dir = dir});
//   auto photos = ListLabelledPhotos(folder, 1);          // class sub-folders
//   auto report = (*eval)->Evaluate(*photos);
//   std::cout << report->Format();
//
// Several classifiers can be compared on the same crops (MaskEvalOptions::mask_dirs,
// EvaluateEach): the detector runs once per photo.
//
// Labels: the classifier's with_mask / without_mask / mask_worn_incorrectly. Folder names
// map to them: with_mask and correct -> with_mask; without_mask; mask_worn_incorrectly and
// incorrect -> mask_worn_incorrectly; other folders are ignored.
// Thread safety: Evaluate() and ClassifyFaces() are const and may run concurrently.
#ifndef STRATUS_TRAINING_MASK_EVAL_H_
#define STRATUS_TRAINING_MASK_EVAL_H_

#include <array>
#include <memory>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace stratus::runtime {
class ModelRepository;
class FacePipeline;
class Model;
}  // namespace stratus::runtime

namespace stratus::training {

// The rectangle the mask service classifies for a detector box (x, y, width, height in pixels,
// unclipped): the box grown by the service's default margins (services/mask/mask.h: 18% of the
// width each side, 15% of the height above, 19% below), clipped to a `width` x `height` image.
cv::Rect MaskServiceCrop(double x, double y, double box_width, double box_height, int width,
                         int height);

// Parts of a photo set by a hash (64-bit FNV-1a) of each file name alone, the same on every
// machine. MaskSplitOf: ../shared/data/masks, kTrain 80%, kValidation 10%, kTest 10%.
// DevSetSplitOf: a development set (../shared/data/masks-maskedfacenet), kTrain 40% (may be
// trained on), kValidation 20% (choices), kTest 40% (reported, never trained on).
enum class MaskSplit { kTrain = 0, kValidation = 1, kTest = 2 };
MaskSplit MaskSplitOf(const std::string& file_name);
MaskSplit DevSetSplitOf(const std::string& file_name);

// Class indices of reports (the classifier's labels are mapped onto these by name).
enum MaskClass { kWithMask = 0, kWithoutMask = 1, kWornIncorrectly = 2 };
inline constexpr std::array<const char*, 3> kMaskClassNames = {"with_mask", "without_mask",
                                                               "mask_worn_incorrectly"};

struct LabelledPhoto {
  std::string path;
  int truth = 0;  // MaskClass
};

// The photos of `dir`'s class sub-folders (see the file comment), every `sample`-th of each
// class in file-name order; with `part`, only the photos DevSetSplitOf puts there. NotFound when
// `dir` has no class folder.
absl::StatusOr<std::vector<LabelledPhoto>> ListLabelledPhotos(
    const std::string& dir, int sample = 1, std::optional<MaskSplit> part = std::nullopt);

// The kTest part of ../shared/data/masks by MaskSplitOf (`dir`: its with_mask/ and
// without_mask/ folders), every `sample`-th of each class. Held out only for a classifier whose
// training left those photos out: jobs/mask.yaml's seeded random split does not.
absl::StatusOr<std::vector<LabelledPhoto>> ListHeldOutMaskPhotos(const std::string& dir,
                                                                 int sample = 1);

struct MaskEvalReport {
  std::array<std::array<int, 3>, 3> confusion{};  // [truth][predicted]
  int photos = 0;
  int no_face = 0;  // photos classified whole: the detector found no face

  double Accuracy() const;
  double Recall(int c) const;     // NaN when the class has no photo
  double Precision(int c) const;  // NaN when nothing was predicted as `c`
  // Face covered (with_mask or mask_worn_incorrectly) against without_mask.
  double CoveredAccuracy() const;
  // Counts, accuracy, face-covered accuracy, per-class recall/precision, confusion matrix.
  std::string Format(const std::string& title) const;
};

struct PhotoPrediction {
  bool face_found = false;
  cv::Rect crop;                         // what was classified (pixels)
  int predicted = 0;                     // MaskClass
  std::array<float, 3> probabilities{};  // by MaskClass
};

struct MaskEvalOptions {
  std::string model_dir;  // the repository holding `faces` (and `mask` unless mask_dirs)
  // The classifiers' folders, each evaluated on the same crops; empty: {model_dir/mask}.
  // ClassifyFaces() and Evaluate() use the first.
  std::vector<std::string> mask_dirs;
  bool tight = false;  // classify the detector's box without the service's margins
  float min_face_confidence = 0.5f;
};

class MaskEvaluator {
 public:
  // Loads the detector and the classifiers; NotFound/FailedPrecondition when one is missing,
  // InvalidArgument when a classifier's labels are not the three mask classes.
  static absl::StatusOr<std::unique_ptr<MaskEvaluator>> Create(const MaskEvalOptions& options);
  ~MaskEvaluator();

  // `bgr`: a decoded photo (8-bit BGR). The `max_faces` most confident faces, by decreasing
  // detector score; no face found: the whole photo, once (face_found false).
  absl::StatusOr<std::vector<PhotoPrediction>> ClassifyFaces(const cv::Mat& bgr,
                                                             int max_faces) const {
    return ClassifyFaces(bgr, max_faces, 0);
  }
  absl::StatusOr<std::vector<PhotoPrediction>> ClassifyFaces(const cv::Mat& bgr, int max_faces,
                                                             size_t classifier) const;
  absl::StatusOr<MaskEvalReport> Evaluate(absl::Span<const LabelledPhoto> photos) const;
  // One report per classifier (in mask_dirs order), each photo's face found once.
  absl::StatusOr<std::vector<MaskEvalReport>> EvaluateEach(
      absl::Span<const LabelledPhoto> photos) const;
  size_t classifiers() const { return classifiers_.size(); }

 private:
  MaskEvaluator() = default;
  // The crops of the `max_faces` most confident faces (or the whole photo), as RGB views.
  absl::StatusOr<std::vector<PhotoPrediction>> FindFaces(const cv::Mat& rgb, int max_faces,
                                                         std::vector<cv::Mat>* crops) const;
  absl::Status Classify(size_t classifier, const std::vector<cv::Mat>& crops,
                        std::vector<PhotoPrediction>* out) const;

  MaskEvalOptions options_;
  std::unique_ptr<runtime::ModelRepository> repo_;
  std::unique_ptr<runtime::FacePipeline> pipeline_;
  std::vector<std::unique_ptr<runtime::Model>> classifiers_;
  std::vector<std::array<int, 3>> class_of_output_;  // per classifier: output index -> MaskClass
};

}  // namespace stratus::training

#endif  // STRATUS_TRAINING_MASK_EVAL_H_
