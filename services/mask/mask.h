// The mask core (no gRPC): classifies face crops as with_mask / without_mask /
// mask_worn_incorrectly (the labels of the model's config.yaml) through the model runtime.
//
//   auto masks = MaskClassifier::Create(options);     // checks options, loads nothing
//   (*masks)->StartLoading();                         // loads + warms up in the background
//   absl::Status ready = (*masks)->Readiness();       // OK once the model is loaded and warm
//   auto out = (*masks)->ClassifyBoxes(rgb, boxes);   // one result per box, in order
//
// Three entry points, one per request form of stratus.v1.MaskService.Classify:
//   ClassifyCrops  each image is one face crop, classified as it is (no margin);
//   ClassifyBoxes  face boxes (fractions of `image`) are grown by the crop margin (below), cut
//                  from the image (clipped at its border) and classified;
//   ClassifyImage  as ClassifyBoxes with the faces a FaceFinder (the detector service) finds,
//                  largest first.
// All faces of one call go through the model together, in batches of at most `max_batch`.
//
// Why a margin: the model was trained on the photos of ../shared/data/masks as they are
// (training/MASK.md), which are face crops looser than the face detector's tight boxes (hair,
// ears and neck show). The default margins are the medians measured by stratus-mask-crop-stats
// (the `faces` detector run on the training photos; services/mask/README.md), so a crop cut
// around a detector box frames the face as a training photo does.
//
// Errors: UNAVAILABLE while the model loads or when it failed to load (the message says why),
// and from the FaceFinder (detector unreachable); INVALID_ARGUMENT for an empty image, a box
// with non-positive or non-finite size, or one that leaves no pixel of the image; INTERNAL for a
// LibTorch failure.
//
// Thread safety: every method may be called from any thread once Create() returned; the
// classify calls run concurrently. The destructor waits for a load in progress.
#ifndef STRATUS_SERVICES_MASK_MASK_H_
#define STRATUS_SERVICES_MASK_MASK_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/metrics.h"
#include "runtime/decoder.h"
#include "runtime/model.h"
#include "runtime/model_lifecycle.h"
#include "runtime/model_repository.h"

namespace stratus::mask {

// A face box (fractions of the image, common.proto's convention) and its detection score.
struct FaceBox {
  runtime::Box box;
  float confidence = 1.0f;
};

// Finds the faces of an image for requests that give none. The service implements it as a gRPC
// client of the detector (detector_client.h); tests fake it. Must be thread-safe.
class FaceFinder {
 public:
  virtual ~FaceFinder() = default;
  // `encoded` is the image file as the caller sent it (JPEG/PNG), already decoded successfully
  // by the caller. Returns the faces scoring at least `min_confidence`, any order. UNAVAILABLE
  // (naming the detector) when the detector cannot be reached.
  virtual absl::StatusOr<std::vector<FaceBox>> FindFaces(std::string_view encoded,
                                                         float min_confidence) = 0;
};

struct MaskOptions {
  // The model repository ($STRATUS_MODEL_DIR). Required.
  std::string model_dir;
  // Folder of the mask model in the repository. Its config must name the `classifier` decoder.
  std::string model = "mask";
  // Device, threads, layout for the runtime. max_batch_size is overridden by `max_batch`.
  runtime::RuntimeOptions runtime;
  // Most faces per forward; a request with more runs several forwards. 1..256.
  int max_batch = 16;
  // Crop margins around a face box, as fractions of the box's width (each side) and height
  // (above, below): the medians stratus-mask-crop-stats measured on 615 training photos (362
  // with a face found): left 0.158, right 0.198, top 0.151, bottom 0.187 (README.md).
  float margin_x = 0.18f;
  float margin_top = 0.15f;
  float margin_bottom = 0.19f;
  // Counters and histograms (faces by label, batch sizes, inference time); nullptr: none.
  metrics::Registry* metrics = nullptr;
};

// The class of one face.
struct FaceMaskResult {
  FaceBox face;                // the face box as given/found (not grown by the margin)
  std::string label;           // most probable class
  float confidence = 0;        // its probability
  std::vector<float> probabilities;  // one per label of labels(), in that order
};

class MaskClassifier {
 public:
  // InvalidArgument for bad options (empty model_dir or model, max_batch or margins out of
  // range). Loads nothing.
  static absl::StatusOr<std::unique_ptr<MaskClassifier>> Create(const MaskOptions& options);
  ~MaskClassifier();
  MaskClassifier(const MaskClassifier&) = delete;
  MaskClassifier& operator=(const MaskClassifier&) = delete;

  // Loads and warms up the model on this thread (the first call does the work; later calls
  // return its result). Returns the load error, which Readiness() also reports.
  absl::Status Load();
  // Load() on a background thread, then `on_done` (if any) there, e.g. to have the service host
  // re-run its readiness checks at once.
  void StartLoading(std::function<void()> on_done = nullptr);
  // OK once the model is loaded and warm; UNAVAILABLE while loading or after a failed load.
  absl::Status Readiness() const;

  // Valid once Readiness() is OK (empty before).
  std::string version() const;
  std::vector<std::string> labels() const;
  const MaskOptions& options() const { return options_; }

  // See the file comment. Results come back one per crop/box, in order (ClassifyImage: by
  // decreasing box area). `crops` and `image` are 8-bit RGB.
  absl::StatusOr<std::vector<FaceMaskResult>> ClassifyCrops(absl::Span<const cv::Mat> crops) const;
  absl::StatusOr<std::vector<FaceMaskResult>> ClassifyBoxes(
      const cv::Mat& image, absl::Span<const FaceBox> boxes) const;
  absl::StatusOr<std::vector<FaceMaskResult>> ClassifyImage(const cv::Mat& image,
                                                            std::string_view encoded,
                                                            float min_face_confidence,
                                                            FaceFinder* finder) const;

  // The pixel rectangle ClassifyBoxes cuts for `box` in a `width` x `height` image: the box
  // grown by the margins, clipped to the image. InvalidArgument when nothing is left.
  absl::StatusOr<cv::Rect> CropRect(const runtime::Box& box, int width, int height) const;

 private:
  explicit MaskClassifier(const MaskOptions& options);
  absl::StatusOr<const runtime::Model*> ReadyModel() const;
  // The load function of lifecycle_: loads, checks and publishes repository_ and model_.
  absl::Status LoadModel();
  absl::StatusOr<std::vector<FaceMaskResult>> Run(absl::Span<const cv::Mat> crops,
                                                  absl::Span<const FaceBox> faces) const;

  MaskOptions options_;
  mutable std::mutex mu_;
  std::unique_ptr<runtime::ModelRepository> repository_ ABSL_GUARDED_BY(mu_);
  const runtime::Model* model_ ABSL_GUARDED_BY(mu_) = nullptr;  // set once, when READY

  metrics::Family<metrics::Counter>* faces_total_ = nullptr;
  metrics::Histogram* batch_sizes_ = nullptr;
  metrics::Histogram* inference_seconds_ = nullptr;
  runtime::ModelLifecycle lifecycle_;  // last: its destructor joins the loading thread first
};

}  // namespace stratus::mask

#endif  // STRATUS_SERVICES_MASK_MASK_H_
