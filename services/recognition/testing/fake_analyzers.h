// Fakes of the detector and mask backends for tests and benchmarks, plus helpers that make
// synthetic faces (68 landmarks laid out like a frontal face, descriptors at chosen distances)
// and images.
//
// FakeFaceAnalyzer answers AnalyzeFaces from responses registered for exact image bytes; images
// it does not know are decoded (so bad images fail like they would on the detector) and have no
// faces. It also loads the face-api reference outputs (golden/faceapi/sampleN.json in the shared folder
// with sampleN.png) so tests can run on real descriptors. Thread-safe.
#ifndef STRATUS_SERVICES_RECOGNITION_TESTING_FAKE_ANALYZERS_H_
#define STRATUS_SERVICES_RECOGNITION_TESTING_FAKE_ANALYZERS_H_

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "services/recognition/face_analyzer.h"

namespace stratus::recognition::testing {

class FakeFaceAnalyzer : public FaceAnalyzer {
 public:
  // Faces returned for exactly these image bytes (largest first). Descriptors and attributes are
  // cleared from the answer unless requested; max_faces and min_confidence are applied.
  void Add(const std::string& image_bytes, stratus::v1::AnalyzeFacesResponse response);
  // Registers golden/faceapi/sampleN.png with the SSD faces of sampleN.json; returns how many
  // samples were found. The PNG bytes are what to send.
  absl::StatusOr<int> AddFaceApiGolden(const std::string& dir);
  // Every later call fails with `status` (OK to stop failing).
  void FailWith(absl::Status status);
  int calls() const;

  absl::StatusOr<stratus::v1::AnalyzeFacesResponse> AnalyzeFaces(
      const stratus::v1::AnalyzeFacesRequest& request) override;

 private:
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, stratus::v1::AnalyzeFacesResponse> responses_
      ABSL_GUARDED_BY(mu_);
  absl::Status fail_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

class FakeObjectDetector : public ObjectDetector {
 public:
  void Add(const std::string& image_bytes, stratus::v1::DetectResponse response);
  absl::StatusOr<stratus::v1::DetectResponse> Detect(
      const stratus::v1::DetectRequest& request) override;

 private:
  std::mutex mu_;
  absl::flat_hash_map<std::string, stratus::v1::DetectResponse> responses_ ABSL_GUARDED_BY(mu_);
};

// Answers UNIMPLEMENTED (the mask service before its model exists) unless given a function.
class FakeMaskClassifier : public MaskClassifier {
 public:
  using Fn = std::function<absl::StatusOr<stratus::v1::ClassifyResponse>(
      const stratus::v1::ClassifyRequest&)>;
  void Set(Fn fn);
  absl::StatusOr<stratus::v1::ClassifyResponse> Classify(
      const stratus::v1::ClassifyRequest& request) override;

 private:
  std::mutex mu_;
  Fn fn_ ABSL_GUARDED_BY(mu_);
};

// Knobs of a synthetic face.
struct SyntheticFace {
  float left = 0.3f, top = 0.2f, width = 0.3f, height = 0.4f;  // normalised box
  float confidence = 0.99f;                                      // [0, 1]
  float mouth_open = 0.0f;   // inner lip gap as a fraction of the mouth width
  float eyes_open = 0.35f;   // eye height / eye width
  float smile = 0.0f;        // how far the mouth corners rise, fraction of the mouth width
  float yaw = 0, pitch = 0, roll = 0;
  float brightness = 60, sharpness = 60;
  std::vector<float> descriptor;  // 128 values, or empty
};
stratus::v1::FaceAnalysis MakeFace(const SyntheticFace& face);

// A random 128-d descriptor shaped like dlib's (components ~N(0, 0.1), norm ~1.1), seeded.
std::vector<float> RandomDescriptor(uint64_t seed);
// `base` moved by exactly `distance` in a random direction.
std::vector<float> DescriptorAtDistance(const std::vector<float>& base, float distance,
                                        uint64_t seed);
// An encoded image (PNG or JPEG by `format` "png"/"jpg") of random colours, distinct per seed.
std::string MakeImage(int width, int height, uint64_t seed, const std::string& format = "png");

}  // namespace stratus::recognition::testing

#endif  // STRATUS_SERVICES_RECOGNITION_TESTING_FAKE_ANALYZERS_H_
