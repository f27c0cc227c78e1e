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
//   4. (eye_direction) each eye: a square of 2.3x the distance between its corners (68-point
//      36/39 and 42/45, as human crops around MediaPipe's corners), turned upright and cut to
//      64 px -> `face_iris` (the subject's left eye, on the image's right, mirrored: the model
//      takes right eyes) -> iris centre against the eye's corners and lids -> EyeDirection.
// Thread safety: Analyze() is const and may be called concurrently. The pipeline borrows the
// repository's models: the repository must outlive it.
#ifndef STRATUS_RUNTIME_FACE_PIPELINE_H_
#define STRATUS_RUNTIME_FACE_PIPELINE_H_

#include <memory>
#include <optional>
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

struct EyeDirection {
  // Degrees, the gaze relative to the head (not its pose), from where each iris centre sits in
  // its eye (the `face_iris` model's eye contour and iris), averaged over both eyes: the iris's
  // offset from the eye's centre over half the eye's width is sin(angle) x 0.8 (an eyeball of
  // radius 12 mm behind an eye opening 30 mm wide). yaw > 0: looking towards the image's right;
  // pitch > 0: looking up. confidence: 0..100, the face detector's score x 100.
  float yaw = 0;
  float pitch = 0;
  float confidence = 0;
  Point right_iris;  // the subject's right iris centre (image pixels), on the image's left
  Point left_iris;
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
  std::optional<EyeDirection> eye_direction;  // when asked for and the eyes could be cut out
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
  bool eye_direction = false;   // needs `face_iris` (two more model runs per face)
};

// Wall time of each stage of one Analyze() call (for metrics and benchmarks).
struct FaceStageTimes {
  double detect_ms = 0;
  double landmarks_ms = 0;
  double descriptor_ms = 0;
  double age_gender_ms = 0;
  double expressions_ms = 0;
  double eye_direction_ms = 0;
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
    // Optional whatever allow_missing_stages says (a deployment may lack it): without it,
    // Analyze() with eye_direction fails with FailedPrecondition.
    std::string iris = "face_iris";
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

  // Whether the eye_direction stage has its model.
  bool has_eye_direction() const { return iris_ != nullptr; }

 private:
  FacePipeline() = default;
  const Model* detector_ = nullptr;
  const Model* landmarks_ = nullptr;
  const Model* descriptor_ = nullptr;
  const Model* age_gender_ = nullptr;
  const Model* expressions_ = nullptr;
  const Model* iris_ = nullptr;
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
// The upright `size` x `size` square around the eye whose corners are `a` and `b` (image
// pixels, either order), 2.3x their distance wide: the affine map from image to patch pixels.
cv::Mat EyePatchTransform(const Point& a, const Point& b, int size);
// Yaw and pitch (degrees, EyeDirection's conventions) of one eye from the `face_iris` points in
// upright patch pixels, unmirrored: 76 (x, y) pairs, eye contour first (0 and 8 the corners,
// 1..7 the lower lid, 9..15 the upper), iris centre at 71.
std::pair<float, float> GazeOfEye(const std::vector<Point>& iris_points);

}  // namespace stratus::runtime

#endif  // STRATUS_RUNTIME_FACE_PIPELINE_H_
