// The detector core (no gRPC): the model repository, a dynamic batcher per detection model and
// the face pipeline, behind one object the gRPC adapter and the benchmark call.
//
//   auto detector = Detector::Create(options);     // scans the model folder, loads nothing
//   (*detector)->StartLoading();                   // loads + warms up in a background thread
//   absl::Status ready = (*detector)->Readiness(); // OK once the required models are READY
//   auto out = (*detector)->Detect(rgb, params);   // batched with other callers' images
//
// Which models: every folder of `model_dir` whose config.yaml names a detection or face task
// (object_detection, face_detection, face_landmarks, face_embedding, face_age_gender,
// face_expression), plus folders whose config does not parse (so their error is reported), or
// exactly `models` when given. A model that fails to load is logged and listed FAILED with the
// reason; the others serve.
//
// Errors of Detect():
//   NOT_FOUND         unknown model (the message names the known ones);
//   UNAVAILABLE       the model is LOADING or FAILED, its batching queue is full (load
//                     shedding, as detector.proto says) or the detector is shutting down;
//   INVALID_ARGUMENT  empty image, a class the model does not have, min_confidence outside
//                     [0, 1], max_results outside 1..1000, a model that is not a detector;
//   DEADLINE_EXCEEDED the deadline passed while queued.
//
// Thread safety: everything may be called from any thread once Create() returned. The
// destructor waits for a load in progress to finish.
#ifndef STRATUS_SERVICES_DETECTOR_DETECTOR_H_
#define STRATUS_SERVICES_DETECTOR_DETECTOR_H_

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/batcher.h"
#include "runtime/decoder.h"
#include "runtime/face_pipeline.h"
#include "runtime/model.h"
#include "runtime/model_lifecycle.h"
#include "runtime/model_repository.h"
#include "runtime/object_detector.h"

namespace stratus::detector {

struct DetectorOptions {
  // The model repository ($STRATUS_MODEL_DIR). Required.
  std::string model_dir;
  // Folders to load; empty: every detection / face folder (see the file comment).
  std::vector<std::string> models;
  // Readiness needs these READY. Default: the COCO detector and the face detector.
  std::vector<std::string> require_models = {"objects", "faces"};
  // Device, thread budget, layout (runtime/model.h).
  runtime::RuntimeOptions runtime;
  // Batch size, delay bound, queue bound and the metrics registry of the batcher (batcher.h).
  runtime::BatcherOptions batcher;
  // Largest batch for models that run on the CPU (the runtime's warm-up probe may lower it per
  // model: `objects` runs one image per forward). Batching used to be 2-3x slower per image
  // here because glibc handed each forward's activations back to the kernel and faulted them
  // in again, which batches paid for most; with the runtime keeping freed memory
  // (RuntimeOptions::retain_freed_memory) it pays: stratus-bench-detector, 8 callers, 2 cores,
  // images/s unbatched -> batched: nanodet 36.0 -> 49.8, the SSD 21.8-22.1 -> 22.1-26.6.
  int cpu_max_batch_size = 8;
};

// What Detect() was asked.
struct DetectParams {
  std::string model = "objects";
  float min_confidence = 0.5f;                                    // [0, 1]
  std::vector<std::string> classes;                               // label names; empty: all
  int max_results = 100;                                          // 1..1000
  std::optional<std::chrono::steady_clock::time_point> deadline;  // while queued
};

struct DetectOutput {
  std::string model;
  std::string version;
  std::vector<runtime::Detection> detections;  // by decreasing confidence
  int image_width = 0;
  int image_height = 0;
  double inference_ms = 0;  // Model::Forward of the batch (preprocessing + forward)
  double queue_ms = 0;
  int batch_size = 0;
};

struct FaceAnalysisParams {
  float min_confidence = 0.5f;  // (0, 1]
  int max_faces = 100;          // 1..100, the largest boxes
  bool descriptors = false;
  bool attributes = false;  // age, gender, expressions
  bool eye_direction = false;  // the eyes' gaze, when the face_iris model is loaded
};

struct FaceAnalysisOutput {
  std::vector<runtime::Face> faces;  // by decreasing box area
  int image_width = 0;
  int image_height = 0;
  std::map<std::string, std::string> model_versions;  // stage -> version
  double inference_ms = 0;
};

enum class ModelStateKind { kLoading, kReady, kFailed };

struct ModelStatus {
  std::string name;
  std::string version;
  std::string task;
  std::string decoder;
  std::string device;
  int input_width = 0;
  int input_height = 0;
  int labels = 0;
  ModelStateKind state = ModelStateKind::kLoading;
  std::string error;
  int max_batch_size = 0;  // detection models only
};

class Detector {
 public:
  // InvalidArgument for bad options (empty model_dir, batcher options out of range). A missing
  // model_dir is not an error here: Load() reports it and readiness stays down.
  static absl::StatusOr<std::unique_ptr<Detector>> Create(const DetectorOptions& options);
  ~Detector();
  Detector(const Detector&) = delete;
  Detector& operator=(const Detector&) = delete;

  // Loads and warms up the models in a background thread and returns at once, then calls
  // `on_done` (if any) on that thread. Once only.
  void StartLoading(std::function<void()> on_done = nullptr);
  // Loads synchronously (tests, benchmark); returns the repository error (NotFound for a
  // missing model_dir), OK even if some models FAILED. Once only; a second call returns the
  // first's result.
  absl::Status Load();

  // OK when loading finished and every required model is READY; UNAVAILABLE naming what is
  // missing otherwise. Cheap.
  absl::Status Readiness() const;

  // Queues `rgb` (8-bit, 3 channels, RGB) for `params.model`. The future is always valid; the
  // errors of the file comment arrive through it.
  std::future<absl::StatusOr<DetectOutput>> DetectAsync(cv::Mat rgb, const DetectParams& params);
  absl::StatusOr<DetectOutput> Detect(cv::Mat rgb, const DetectParams& params) {
    return DetectAsync(std::move(rgb), params).get();
  }

  // The face pipeline on one image (not batched across callers; the pipeline batches the faces
  // of the image per stage). UNAVAILABLE when `faces` or a requested stage's model is not READY.
  absl::StatusOr<FaceAnalysisOutput> AnalyzeFaces(const cv::Mat& rgb,
                                                  const FaceAnalysisParams& params);

  // Every model, sorted by name: LOADING before the load finishes, then READY or FAILED.
  std::vector<ModelStatus> ListModels() const;

  // Stops the batcher: queued requests fail with UNAVAILABLE. Idempotent.
  void Shutdown();

 private:
  struct Planned {
    std::string name;
    std::string version, task, decoder;  // from config.yaml when it parsed
  };
  struct Item {
    cv::Mat image;
    runtime::DecodeOptions options;  // resolved by the model's ObjectDetector
  };
  struct ItemResult {
    std::vector<runtime::Detection> detections;
    double forward_ms = 0;
  };

  explicit Detector(const DetectorOptions& options);
  // The load function of lifecycle_: the repository error, OK even if some models FAILED.
  absl::Status LoadModels();
  // OK when every required model is READY; UNAVAILABLE naming what is missing.
  absl::Status RequiredModelsReady() const;
  absl::Status RegisterDetector(const runtime::Model* model);
  std::string KnownModelsText() const;
  static absl::StatusOr<std::vector<ItemResult>> RunBatch(const runtime::ObjectDetector& detector,
                                                          std::vector<Item>& batch);

  const DetectorOptions options_;
  std::vector<Planned> planned_;  // set in Create, immutable

  // Set by LoadModels() before lifecycle_ says done: repository_, detectors_, pipeline_.
  std::unique_ptr<runtime::ModelRepository> repository_;
  // The detection models that are READY.
  std::map<std::string, std::unique_ptr<runtime::ObjectDetector>> detectors_;
  std::unique_ptr<runtime::FacePipeline> pipeline_;
  runtime::Batcher<Item, ItemResult> batcher_;
  runtime::ModelLifecycle lifecycle_{"the detector's models"};
};

const char* ModelStateKindName(ModelStateKind s);  // "LOADING", "READY", "FAILED"

// Tasks the detector serves through Detect().
bool IsDetectionTask(const std::string& task);

}  // namespace stratus::detector

#endif  // STRATUS_SERVICES_DETECTOR_DETECTOR_H_
