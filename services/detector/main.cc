// stratus-detector: object and face detection with LibTorch models, dynamic batching across
// callers. Liveness is up as soon as the server listens; the models load and warm up in the
// background and readiness ("models") turns SERVING once the required ones are READY.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/paths.h"
#include "common/service_main.h"
#include "services/detector/detector.h"
#include "services/detector/detector_service.h"

namespace {

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  for (auto part : absl::StrSplit(s, ',', absl::SkipWhitespace())) {
    out.emplace_back(absl::StripAsciiWhitespace(part));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  namespace det = stratus::detector;
  stratus::ServiceMain main(
      {.binary = "stratus-detector",
       .summary = "Object and face detection with LibTorch models, dynamically batched.",
       .defaults = stratus::kDetectorDefaults});
  stratus::FlagSet& flags = main.flags();
  det::DetectorOptions options;
  options.model_dir = stratus::DefaultModelDir();
  options.batcher.max_batch_size = 8;
  det::DetectorServiceOptions service_options;
  service_options.max_stream_in_flight = 16;
  service_options.max_face_analyses = 2;
  service_options.max_face_analyses_waiting = 64;
  double max_delay_ms = 2.0;
  int max_queue = 256;
  int image_memory_mb = 1024;
  std::string require_models = "objects,faces";
  std::string models;
  flags.String("model-dir", "STRATUS_MODEL_DIR", &options.model_dir, "the model repository");
  flags.String("device", "STRATUS_DEVICE", &options.runtime.device, "auto | cpu | cuda:N");
  flags.Int("threads", "STRATUS_THREADS", &options.runtime.num_threads,
            "LibTorch intra-op threads (0: one per core)");
  flags.Int("max-batch", "STRATUS_MAX_BATCH", &options.batcher.max_batch_size,
            "largest batch the dynamic batcher forms per model (1: no batching)");
  flags.Int("cpu-max-batch", "STRATUS_CPU_MAX_BATCH", &options.cpu_max_batch_size,
            "largest batch for models on the CPU (the warm-up may lower it per model)");
  flags.Double("max-delay-ms", "STRATUS_MAX_DELAY_MS", &max_delay_ms,
               "longest the first request of a batch waits for more");
  flags.Int("max-queue", "STRATUS_MAX_QUEUE", &max_queue,
            "requests queued per model before RESOURCE_EXHAUSTED");
  flags.Int("stream-in-flight", "", &service_options.max_stream_in_flight,
            "frames of one DetectStream queued or running at once");
  flags.Int("image-memory-mb", "STRATUS_DETECTOR_IMAGE_MEMORY_MB", &image_memory_mb,
            "decoded images of all requests in flight, in MiB, before RESOURCE_EXHAUSTED "
            "(0: no bound)");
  flags.Int("max-face-analyses", "STRATUS_DETECTOR_MAX_FACE_ANALYSES",
            &service_options.max_face_analyses, "AnalyzeFaces calls running at once");
  flags.Int("max-face-analyses-waiting", "", &service_options.max_face_analyses_waiting,
            "AnalyzeFaces calls waiting for a turn before RESOURCE_EXHAUSTED");
  flags.String("require-models", "STRATUS_DETECTOR_REQUIRE_MODELS", &require_models,
               "comma-separated models that must be READY for readiness");
  flags.String("models", "STRATUS_DETECTOR_MODELS", &models,
               "comma-separated model folders to load (empty: every detection and face model)");
  flags.String("layout", "", &options.runtime.layout,
               "auto | channels_last | nchw (CPU memory layout)");
  flags.String("precision", "STRATUS_PRECISION", &options.runtime.precision,
               "fp32 (exact) | bf16 | auto (bf16 per model where the CPU has it and it is "
               "faster; see runtime/MODELS.md for its accuracy)");
  flags.String("file-root", "STRATUS_DETECTOR_FILE_ROOT", &service_options.file_root,
               "accept Image.uri file:// paths under this folder (empty: refuse uri images)");
  return main.Run(argc, argv, [&](stratus::ServiceContext& ctx) -> absl::Status {
    const std::string& device = options.runtime.device;
    if (device != "auto" && device != "cpu" && device.rfind("cuda", 0) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--device must be auto, cpu or cuda:N, got '", device, "'"));
    }
    options.models = SplitList(models);
    options.require_models = SplitList(require_models);
    options.batcher.max_queue_delay =
        std::chrono::microseconds(static_cast<int64_t>(max_delay_ms * 1000.0));
    options.batcher.max_queue_size = max_queue;
    options.batcher.metrics = &ctx.metrics();
    absl::StatusOr<std::unique_ptr<det::Detector>> created = det::Detector::Create(options);
    if (!created.ok()) return created.status();
    det::Detector* detector = ctx.Keep(std::move(*created));
    service_options.image_memory_budget = static_cast<size_t>(std::max(0, image_memory_mb)) << 20;
    service_options.metrics = &ctx.metrics();
    ctx.host().AddService(ctx.Make<det::DetectorServiceImpl>(detector, service_options),
                          "stratus.v1.DetectorService");
    ctx.host().AddReadinessCheck("models", [detector] { return detector->Readiness(); });
    ctx.OnStarted([detector, host = &ctx.host()] {
      detector->StartLoading([host] { host->RecheckReadiness(); });
    });
    ctx.OnStopped([detector] { detector->Shutdown(); });
    return absl::OkStatus();
  });
}
