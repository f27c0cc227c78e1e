// The face pipeline: face-api's detectAllFaces().withFaceLandmarks().withFaceExpressions()
// .withFaceDescriptors().withAgeAndGender(), on the models of a ModelRepository, reproducing
// face-api's crops and arithmetic so its outputs match the JavaScript reference
// (golden tests: runtime/face_pipeline_golden_test.cc).
//
//   auto pipeline = FacePipeline::Create(*repo, FacePipeline::Options{});
//   auto faces = (*pipeline)->Analyze({rgb}, AnalyzeOptions{});   // per image, per face
//
// Steps (all faces of all images of a call share one batch per model):
//   1. `faces` (SSD MobileNet v1, 512, padded bottom/right): boxes, scores.
//   2. crop = detection box clipped to the image and floored -> `face_landmarks68` (112, padded
//      to a square around the centre) -> 68 points = relative x crop size + box origin.
//   3. alignedRect = bounding box of the 68 points padded by 20% -> `face_age_gender` and
//      `face_expression` (112); dlib-aligned square from eye and mouth centres ->
//      `face_descriptor` (150).
// Thread safety: Analyze() is const and may be called concurrently. The pipeline borrows the
// repository's models: the repository must outlive it.
#ifndef STRATUS_RUNTIME_FACE_PIPELINE_H_
#define STRATUS_RUNTIME_FACE_PIPELINE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/decoder.h"

namespace stratus::runtime {

class ModelRepository;
class Model;

// A rectangle in image pixels (may be fractional).
struct PixelRect {
  double x = 0;
  double y = 0;
  double width = 0;
  double height = 0;
};

struct FacePose {
  // Degrees, estimated from the 68 landmarks (geometry, not a model): roll is the in-plane tilt
  // of the line through the outer eye corners (positive: clockwise in the image); yaw is how far
  // the nose tip sits from the middle of the jaw line (positive: face turned towards the image's
  // right); pitch is how far the nose tip sits from its frontal position between the eyes and
  // the chin (positive: looking up). Ranges -90..90, accurate to ~10 degrees.
  float roll = 0;
  float yaw = 0;
  float pitch = 0;
};

struct FaceQuality {
  // 0..100 like Rekognition. brightness: mean luma of the aligned face crop / 255 x 100.
  // sharpness: 100 x (1 - exp(-variance of the Laplacian of the crop resized to 112 px / 200)),
  // so a blurred face is near 0 and a crisp one near 100.
  float brightness = 0;
  float sharpness = 0;
};

struct Face {
  Box box;                        // detection box, fractions of the image, clamped to [0, 1]
  PixelRect box_pixels;           // the same in pixels (unclamped, as face-api reports it)
  float score = 0;                // detector confidence
  std::vector<Point> landmarks;   // 68 points (dlib/iBUG order), image pixels; empty if not run
  PixelRect aligned_rect;         // crop for age/gender and expressions (pixels)
  PixelRect descriptor_rect;      // dlib-aligned crop for the descriptor (pixels)
  FacePose pose;
  FaceQuality quality;
  std::vector<float> descriptor;  // 128-d, not normalised (dlib: same person if L2 < 0.6)
  float age = 0;                  // years
  std::string gender;             // labels of face_age_gender ("male" / "female")
  float gender_probability = 0;   // probability of `gender`
  // The 7 expressions in the model's label order (neutral, happy, sad, angry, fearful,
  // disgusted, surprised), probabilities summing to 1.
  std::vector<std::pair<std::string, float>> expressions;
};

struct AnalyzeOptions {
  float min_confidence = 0.5f;  // face-api's SsdMobilenetv1Options default
  int max_faces = 100;          // per image
  // Stages to run (detection always runs). Each needs its model in the repository.
  bool landmarks = true;        // also needed by every stage below
  bool descriptor = true;
  bool age_gender = true;
  bool expressions = true;
  bool quality = true;
};

// Wall time of each stage of one Analyze() call (for metrics and benchmarks).
struct FaceStageTimes {
  double detect_ms = 0;
  double landmarks_ms = 0;
  double descriptor_ms = 0;
  double age_gender_ms = 0;
  double expressions_ms = 0;
  int faces = 0;
};

class FacePipeline {
 public:
  struct Options {
    std::string detector = "faces";
    std::string landmarks = "face_landmarks68";
    std::string descriptor = "face_descriptor";
    std::string age_gender = "face_age_gender";
    std::string expressions = "face_expression";
    // When false, Create() fails unless every model above is READY; when true, missing stage
    // models are tolerated and Analyze() fails (FailedPrecondition) only if asked for them.
    bool allow_missing_stages = false;
  };

  // NotFound / FailedPrecondition naming the model that is missing or FAILED.
  static absl::StatusOr<std::unique_ptr<FacePipeline>> Create(const ModelRepository& repo,
                                                              const Options& options);

  // Per image (8-bit RGB), the faces found, by decreasing score. InvalidArgument for an empty or
  // non-RGB image; FailedPrecondition if a requested stage has no model.
  // `times`, when given, receives the time spent in each stage.
  absl::StatusOr<std::vector<std::vector<Face>>> Analyze(absl::Span<const cv::Mat> rgb_images,
                                                         const AnalyzeOptions& options,
                                                         FaceStageTimes* times = nullptr) const;

 private:
  FacePipeline() = default;
  const Model* detector_ = nullptr;
  const Model* landmarks_ = nullptr;
  const Model* descriptor_ = nullptr;
  const Model* age_gender_ = nullptr;
  const Model* expressions_ = nullptr;
};

// ---- face-api geometry, exposed for tests ----
// Box.clipAtImageBorders(w, h) (then floor): the integer crop face-api cuts. Empty if outside.
cv::Rect ClipAtImageBorders(const PixelRect& r, int image_width, int image_height);
// FaceLandmarks.alignMinBbox(0.2): bounding box of the points padded by 20%.
PixelRect AlignMinBbox(const std::vector<Point>& pts, double padding = 0.2);
// FaceLandmarks.alignDlib(): square from eye and mouth centres; crop_w/h are the landmark
// crop's size (face-api clamps the size with them).
PixelRect AlignDlib(const std::vector<Point>& pts, int crop_width, int crop_height);
FacePose EstimatePose(const std::vector<Point>& pts);
FaceQuality MeasureQuality(const cv::Mat& rgb_crop);

}  // namespace stratus::runtime

#endif  // STRATUS_RUNTIME_FACE_PIPELINE_H_
