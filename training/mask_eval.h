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
// Labels: the classifier's with_mask / without_mask / mask_worn_incorrectly. Folder names
// map to them: with_mask and correct -> with_mask; without_mask; mask_worn_incorrectly and
// incorrect -> mask_worn_incorrectly; other folders are ignored.
// Thread safety: Evaluate() and ClassifyFaces() are const and may run concurrently.
#ifndef STRATUS_TRAINING_MASK_EVAL_H_
#define STRATUS_TRAINING_MASK_EVAL_H_

#include <array>
#include <memory>
#include <opencv2/core.hpp>
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

// Class indices of reports (the classifier's labels are mapped onto these by name).
enum MaskClass { kWithMask = 0, kWithoutMask = 1, kWornIncorrectly = 2 };
inline constexpr std::array<const char*, 3> kMaskClassNames = {"with_mask", "without_mask",
                                                               "mask_worn_incorrectly"};

struct LabelledPhoto {
  std::string path;
  int truth = 0;  // MaskClass
};

// The photos of `dir`'s class sub-folders (see the file comment), every `sample`-th of each
// class in file-name order. NotFound when `dir` has no class folder.
absl::StatusOr<std::vector<LabelledPhoto>> ListLabelledPhotos(const std::string& dir,
                                                              int sample = 1);

// The test split of ../shared/data/masks (`dir`: its with_mask/ and without_mask/ folders), as
// stratus-prepare-masks holds it out (MaskSplitOf), every `sample`-th of each class.
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
  std::string model_dir;  // the repository holding `faces` (and `mask` unless mask_dir)
  std::string mask_dir;   // the classifier's folder; empty: model_dir/mask
  bool tight = false;     // classify the detector's box without the service's margins
  float min_face_confidence = 0.5f;
};

class MaskEvaluator {
 public:
  // Loads the detector and the classifier; NotFound/FailedPrecondition when either is missing,
  // InvalidArgument when the classifier's labels are not the three mask classes.
  static absl::StatusOr<std::unique_ptr<MaskEvaluator>> Create(const MaskEvalOptions& options);
  ~MaskEvaluator();

  // `bgr`: a decoded photo (8-bit BGR). The `max_faces` most confident faces, by decreasing
  // detector score; no face found: the whole photo, once (face_found false).
  absl::StatusOr<std::vector<PhotoPrediction>> ClassifyFaces(const cv::Mat& bgr,
                                                             int max_faces) const;
  absl::StatusOr<MaskEvalReport> Evaluate(absl::Span<const LabelledPhoto> photos) const;

 private:
  MaskEvaluator() = default;
  MaskEvalOptions options_;
  std::unique_ptr<runtime::ModelRepository> repo_;
  std::unique_ptr<runtime::FacePipeline> pipeline_;
  std::unique_ptr<runtime::Model> classifier_;
  std::array<int, 3> class_of_output_{};  // classifier output index -> MaskClass
};

}  // namespace stratus::training

#endif  // STRATUS_TRAINING_MASK_EVAL_H_
