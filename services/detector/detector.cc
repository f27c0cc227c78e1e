#include "services/detector/detector.h"


#include <algorithm>
#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "runtime/model_config.h"

namespace stratus::detector {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::set<std::string>& ServedTasks() {
  static const auto* kTasks =
      new std::set<std::string>{"object_detection", "face_detection",  "face_landmarks",
                                "face_embedding",   "face_age_gender", "face_expression"};
  return *kTasks;
}

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

float Area(const runtime::Box& b) { return std::max(0.f, b.width) * std::max(0.f, b.height); }

}  // namespace

const char* ModelStateKindName(ModelStateKind s) {
  switch (s) {
    case ModelStateKind::kLoading:
      return "LOADING";
    case ModelStateKind::kReady:
      return "READY";
    case ModelStateKind::kFailed:
      return "FAILED";
  }
  return "UNKNOWN";
}

bool IsDetectionTask(const std::string& task) {
  return task == "object_detection" || task == "face_detection";
}

Detector::Detector(const DetectorOptions& options) : options_(options), batcher_(options.batcher) {}

Detector::~Detector() {
  lifecycle_.Join();
  batcher_.Shutdown();
}

absl::StatusOr<std::unique_ptr<Detector>> Detector::Create(const DetectorOptions& options) {
  if (options.model_dir.empty()) {
    return absl::InvalidArgumentError("no model directory given (--model-dir / STRATUS_MODEL_DIR)");
  }
  if (auto s = runtime::ValidateBatcherOptions(options.batcher); !s.ok()) return s;
  std::unique_ptr<Detector> d(new Detector(options));
  // Which folders: the configured list, or every folder with a served task (or an unreadable
  // config, so its error reaches the operator).
  std::error_code ec;
  if (!options.models.empty()) {
    for (const std::string& name : options.models) {
      Planned p{name, "", "", ""};
      if (auto c = runtime::LoadModelConfig((fs::path(options.model_dir) / name).string());
          c.ok()) {
        p = Planned{name, c->version, c->task, c->decoder_type};
      }
      d->planned_.push_back(std::move(p));
    }
  } else if (fs::is_directory(options.model_dir, ec)) {
    for (const auto& entry : fs::directory_iterator(options.model_dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (!entry.is_directory() || name.empty() || name[0] == '.') continue;
      auto c = runtime::LoadModelConfig(entry.path().string());
      if (c.ok() && !ServedTasks().count(c->task)) continue;  // mask, sentiment, ...
      d->planned_.push_back(c.ok() ? Planned{name, c->version, c->task, c->decoder_type}
                                   : Planned{name, "", "", ""});
    }
  }
  std::sort(d->planned_.begin(), d->planned_.end(),
            [](const Planned& a, const Planned& b) { return a.name < b.name; });
  return d;
}

void Detector::StartLoading(std::function<void()> on_done) {
  lifecycle_.Start([this] { return LoadModels(); }, std::move(on_done));
}

absl::Status Detector::Load() {
  return lifecycle_.Run([this] { return LoadModels(); });
}

absl::Status Detector::LoadModels() {
  const auto start = Clock::now();
  std::vector<std::string> names;
  for (const Planned& p : planned_) names.push_back(p.name);
  SLOG(INFO) << "loading models" << Kv("dir", options_.model_dir)
             << Kv("models", absl::StrJoin(names, ",")) << Kv("device", options_.runtime.device);
  // No detection or face folder found: ask for the required ones, so the repository reports
  // a missing directory, or each of them as FAILED "not found", and readiness says which.
  if (names.empty()) names = options_.require_models;
  auto repo = runtime::ModelRepository::Load(options_.model_dir, names, options_.runtime);
  if (!repo.ok()) {
    SLOG(ERROR) << "cannot load the model repository" << Kv("error", repo.status().message());
    return repo.status();
  }
  repository_ = std::move(*repo);
  // The repository logs each model's load or failure; here the batch queues and a summary.
  std::vector<std::string> failed;
  for (const runtime::ModelInfo& info : repository_->List()) {
    if (info.state == runtime::ModelState::kSkipped) continue;  // not an image model
    if (info.state != runtime::ModelState::kReady) {
      failed.push_back(info.name);
      continue;
    }
    auto model = repository_->Get(info.name);
    if (!model.ok() || !IsDetectionTask(info.task)) continue;
    if (auto s = RegisterDetector(*model); !s.ok()) {
      SLOG(ERROR) << "cannot start the batcher" << Kv("model", info.name)
                  << Kv("error", s.message());
    }
  }
  runtime::FacePipeline::Options po;
  po.allow_missing_stages = true;
  if (auto pipeline = runtime::FacePipeline::Create(*repository_, po); pipeline.ok()) {
    pipeline_ = std::move(*pipeline);
  } else if (repository_->Get("faces").status().code() == absl::StatusCode::kNotFound) {
    SLOG(INFO) << "face pipeline off: no 'faces' model loaded";
  } else {
    SLOG(WARNING) << "face pipeline unavailable" << Kv("error", pipeline.status().message());
  }
  const absl::Status required = RequiredModelsReady();
  SLOG(INFO) << "models loaded" << Kv("ms", MsSince(start))
             << Kv("failed", failed.empty() ? "none" : absl::StrJoin(failed, ","))
             << Kv("readiness", required.ok() ? "ok" : std::string(required.message()));
  return absl::OkStatus();
}

absl::Status Detector::RegisterDetector(const runtime::Model* model) {
  auto detector = runtime::ObjectDetector::Create(*repository_, model->name());
  if (!detector.ok()) return detector.status();
  const runtime::ObjectDetector* d = detector->get();
  detectors_[model->name()] = std::move(*detector);
  int cap = model->max_batch_size();
  if (model->device() == "cpu") cap = std::min(cap, std::max(1, options_.cpu_max_batch_size));
  return batcher_.AddModel(
      model->name(), [d](std::vector<Item>& batch) { return RunBatch(*d, batch); }, cap);
}

absl::StatusOr<std::vector<Detector::ItemResult>> Detector::RunBatch(
    const runtime::ObjectDetector& detector, std::vector<Item>& batch) {
  std::vector<cv::Mat> images;
  std::vector<runtime::DecodeOptions> options;
  images.reserve(batch.size());
  options.reserve(batch.size());
  for (Item& item : batch) {
    images.push_back(item.image);
    options.push_back(std::move(item.options));
  }
  double forward_ms = 0;
  auto detected = detector.DetectEach(images, options, &forward_ms);
  if (!detected.ok()) return detected.status();
  std::vector<ItemResult> results(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    results[i].detections = std::move((*detected)[i]);
    results[i].forward_ms = forward_ms;
  }
  return results;
}

std::string Detector::KnownModelsText() const {
  std::vector<std::string> names;
  if (lifecycle_.done() && repository_) {
    for (const auto& info : repository_->List()) {
      if (info.task.empty() || IsDetectionTask(info.task)) names.push_back(info.name);
    }
  } else {
    for (const Planned& p : planned_) {
      if (p.task.empty() || IsDetectionTask(p.task)) names.push_back(p.name);
    }
  }
  return names.empty() ? "none" : absl::StrJoin(names, ", ");
}

absl::Status Detector::Readiness() const {
  if (!lifecycle_.done()) return absl::UnavailableError("models are loading");
  if (absl::Status loaded = lifecycle_.result(); !loaded.ok()) {
    return absl::UnavailableError(loaded.message());
  }
  return RequiredModelsReady();
}

absl::Status Detector::RequiredModelsReady() const {
  std::vector<std::string> problems;
  for (const std::string& name : options_.require_models) {
    auto m = repository_->Get(name);
    if (!m.ok()) problems.push_back(std::string(m.status().message()));
  }
  if (!problems.empty()) {
    return absl::UnavailableError(
        absl::StrCat("required models not ready: ", absl::StrJoin(problems, "; ")));
  }
  return absl::OkStatus();
}

std::future<absl::StatusOr<DetectOutput>> Detector::DetectAsync(cv::Mat rgb,
                                                                const DetectParams& params) {
  auto fail = [](absl::Status s) {
    std::promise<absl::StatusOr<DetectOutput>> p;
    p.set_value(std::move(s));
    return p.get_future();
  };
  const std::string& name = params.model;
  if (!lifecycle_.done()) {
    for (const Planned& p : planned_) {
      if (p.name == name) {
        return fail(absl::UnavailableError(
            absl::StrCat("model '", name, "' is still loading; retry shortly")));
      }
    }
    return fail(absl::NotFoundError(
        absl::StrCat("unknown model '", name, "'; known models: ", KnownModelsText())));
  }
  auto it = detectors_.find(name);
  if (it == detectors_.end()) {
    if (!repository_) {
      return fail(
          absl::UnavailableError(absl::StrCat("no models: ", lifecycle_.result().message())));
    }
    auto m = repository_->Get(name);
    if (m.ok()) {
      return fail(absl::InvalidArgumentError(
          absl::StrCat("model '", name, "' is a ", (*m)->config().task,
                       " model, not a detector; detectors: ", KnownModelsText())));
    }
    if (m.status().code() == absl::StatusCode::kNotFound) {
      return fail(absl::NotFoundError(
          absl::StrCat("unknown model '", name, "'; known models: ", KnownModelsText())));
    }
    return fail(absl::UnavailableError(m.status().message()));  // FAILED: carries the reason
  }
  const runtime::ObjectDetector& detector = *it->second;
  if (rgb.empty() || rgb.cols <= 0 || rgb.rows <= 0) {
    return fail(absl::InvalidArgumentError("the image is empty (zero-sized frame)"));
  }
  if (rgb.type() != CV_8UC3) {
    return fail(absl::InvalidArgumentError("the image must be 8-bit RGB"));
  }
  auto options = detector.Resolve(runtime::DetectOptions{
      .min_confidence = params.min_confidence,
      .classes = params.classes,
      .max_results = params.max_results,
  });
  if (!options.ok()) return fail(options.status());
  Item item;
  item.options = std::move(*options);
  const int width = rgb.cols, height = rgb.rows;
  item.image = std::move(rgb);
  auto future = batcher_.Submit(name, std::move(item), params.deadline);
  return std::async(std::launch::deferred,
                    [future = std::move(future), name, version = detector.model().config().version, width,
                     height]() mutable -> absl::StatusOr<DetectOutput> {
                      runtime::BatchResult<ItemResult> r = future.get();
                      if (r.value.status().code() == absl::StatusCode::kResourceExhausted) {
                        // detector.proto: a full queue is UNAVAILABLE (retry elsewhere).
                        return absl::UnavailableError(r.value.status().message());
                      }
                      if (!r.value.ok()) return r.value.status();
                      DetectOutput out;
                      out.model = name;
                      out.version = version;
                      out.detections = std::move(r.value->detections);
                      out.image_width = width;
                      out.image_height = height;
                      out.inference_ms = r.value->forward_ms;
                      out.queue_ms = r.info.queue_ms;
                      out.batch_size = r.info.batch_size;
                      return out;
                    });
}

absl::StatusOr<FaceAnalysisOutput> Detector::AnalyzeFaces(const cv::Mat& rgb,
                                                          const FaceAnalysisParams& params) {
  if (!lifecycle_.done()) {
    return absl::UnavailableError("the face models are still loading; retry shortly");
  }
  if (!pipeline_) {
    auto faces =
        repository_
            ? repository_->Get("faces")
            : absl::StatusOr<const runtime::Model*>(
                  absl::UnavailableError(lifecycle_.result().message()));
    return absl::UnavailableError(
        absl::StrCat("the face pipeline is not available: ",
                     faces.ok() ? "its models did not load" : faces.status().message()));
  }
  if (rgb.empty() || rgb.type() != CV_8UC3) {
    return absl::InvalidArgumentError("the image is empty (zero-sized frame) or not 8-bit RGB");
  }
  if (!(params.min_confidence > 0 && params.min_confidence <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("min_confidence must be within (0, 1], got ", params.min_confidence));
  }
  if (params.max_faces < 1 || params.max_faces > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_faces must be within 1..100, got ", params.max_faces));
  }
  runtime::AnalyzeOptions o;
  o.min_confidence = params.min_confidence;
  // The largest boxes are wanted, the pipeline keeps the best scores: take all, cut below.
  o.max_faces = 100;
  o.landmarks = true;
  o.descriptor = params.descriptors;
  o.age_gender = params.attributes;
  o.expressions = params.attributes;
  o.quality = true;
  o.eye_direction = params.eye_direction && pipeline_->has_eye_direction();
  const auto start = Clock::now();
  auto result = pipeline_->Analyze({rgb}, o);
  if (!result.ok()) {
    if (result.status().code() == absl::StatusCode::kFailedPrecondition) {
      return absl::UnavailableError(result.status().message());  // a stage's model is missing
    }
    return result.status();
  }
  FaceAnalysisOutput out;
  out.inference_ms = MsSince(start);
  out.image_width = rgb.cols;
  out.image_height = rgb.rows;
  if (!result->empty()) out.faces = std::move((*result)[0]);
  std::stable_sort(
      out.faces.begin(), out.faces.end(),
      [](const runtime::Face& a, const runtime::Face& b) { return Area(a.box) > Area(b.box); });
  if (static_cast<int>(out.faces.size()) > params.max_faces) out.faces.resize(params.max_faces);
  auto version = [&](const char* model) {
    auto m = repository_->Get(model);
    return m.ok() ? (*m)->config().version : std::string();
  };
  out.model_versions["detector"] = version("faces");
  out.model_versions["landmarks"] = version("face_landmarks68");
  if (params.descriptors) out.model_versions["descriptor"] = version("face_descriptor");
  if (params.attributes) {
    out.model_versions["age_gender"] = version("face_age_gender");
    out.model_versions["expressions"] = version("face_expression");
  }
  if (o.eye_direction) out.model_versions["eye_direction"] = version("face_iris");
  return out;
}

std::vector<ModelStatus> Detector::ListModels() const {
  std::vector<ModelStatus> out;
  if (!lifecycle_.done() || !repository_) {
    for (const Planned& p : planned_) {
      ModelStatus s;
      s.name = p.name;
      s.version = p.version;
      s.task = p.task;
      s.decoder = p.decoder;
      if (lifecycle_.done()) {
        s.state = ModelStateKind::kFailed;
        s.error = std::string(lifecycle_.result().message());
      }
      out.push_back(std::move(s));
    }
    return out;
  }
  for (const runtime::ModelInfo& info : repository_->List()) {
    if (info.state == runtime::ModelState::kSkipped) continue;  // not served here
    ModelStatus s;
    s.name = info.name;
    s.version = info.version;
    s.task = info.task;
    s.decoder = info.decoder;
    s.device = info.device;
    s.error = info.error;
    s.state = info.state == runtime::ModelState::kReady ? ModelStateKind::kReady
                                                        : ModelStateKind::kFailed;
    if (auto m = repository_->Get(info.name); m.ok()) {
      s.input_width = (*m)->config().input.width;
      s.input_height = (*m)->config().input.height;
      s.labels = static_cast<int>((*m)->config().labels.size());
      s.max_batch_size = batcher_.max_batch_size(info.name);
    }
    out.push_back(std::move(s));
  }
  return out;
}

void Detector::Shutdown() { batcher_.Shutdown(); }

}  // namespace stratus::detector
