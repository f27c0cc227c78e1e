// stratus-detector: object and face detection with LibTorch models, dynamic batching across
// callers. Liveness is up as soon as the server listens; the models load and warm up in the
// background and readiness ("models") turns SERVING once the required ones are READY.
#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "common/paths.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "common/logging.h"
#include "common/service_flags.h"
#include "common/service_host.h"
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
  stratus::FlagSet flags("stratus-detector",
                         "Object and face detection with LibTorch models, dynamically batched.");
  stratus::CommonServiceFlags common;
  stratus::RegisterCommonServiceFlags(stratus::kDetectorDefaults, false, flags, &common);
  std::string model_dir = stratus::DefaultModelDir();
  std::string device = "auto";
  int threads = 0;
  int max_batch = 8;
  int cpu_max_batch = 1;
  double max_delay_ms = 2.0;
  int max_queue = 256;
  int stream_in_flight = 16;
  int image_memory_mb = 1024;
  int max_face_analyses = 2;
  int max_face_analyses_waiting = 64;
  std::string require_models = "objects,faces";
  std::string models;
  std::string layout = "auto";
  std::string file_root;
  flags.String("model-dir", "STRATUS_MODEL_DIR", &model_dir, "the model repository");
  flags.String("device", "STRATUS_DEVICE", &device, "auto | cpu | cuda:N");
  flags.Int("threads", "STRATUS_THREADS", &threads, "LibTorch intra-op threads (0: one per core)");
  flags.Int("max-batch", "STRATUS_MAX_BATCH", &max_batch,
            "largest batch the dynamic batcher forms per model (1: no batching)");
  flags.Int("cpu-max-batch", "STRATUS_CPU_MAX_BATCH", &cpu_max_batch,
            "largest batch for models on the CPU (1: batching measured slower there)");
  flags.Double("max-delay-ms", "STRATUS_MAX_DELAY_MS", &max_delay_ms,
               "longest the first request of a batch waits for more");
  flags.Int("max-queue", "STRATUS_MAX_QUEUE", &max_queue,
            "requests queued per model before RESOURCE_EXHAUSTED");
  flags.Int("stream-in-flight", "", &stream_in_flight,
            "frames of one DetectStream queued or running at once");
  flags.Int("image-memory-mb", "STRATUS_DETECTOR_IMAGE_MEMORY_MB", &image_memory_mb,
            "decoded images of all requests in flight, in MiB, before RESOURCE_EXHAUSTED "
            "(0: no bound)");
  flags.Int("max-face-analyses", "STRATUS_DETECTOR_MAX_FACE_ANALYSES", &max_face_analyses,
            "AnalyzeFaces calls running at once");
  flags.Int("max-face-analyses-waiting", "", &max_face_analyses_waiting,
            "AnalyzeFaces calls waiting for a turn before RESOURCE_EXHAUSTED");
  flags.String("require-models", "STRATUS_DETECTOR_REQUIRE_MODELS", &require_models,
               "comma-separated models that must be READY for readiness");
  flags.String("models", "STRATUS_DETECTOR_MODELS", &models,
               "comma-separated model folders to load (empty: every detection and face model)");
  flags.String("layout", "", &layout, "auto | channels_last | nchw (CPU memory layout)");
  flags.String("file-root", "STRATUS_DETECTOR_FILE_ROOT", &file_root,
               "accept Image.uri file:// paths under this folder (empty: refuse uri images)");
  int exit_code = 0;
  if (!stratus::ParseFlagsOrExit(flags, argc, argv, &exit_code)) return exit_code;
  if (auto s = stratus::ApplyCommonServiceFlags(&common); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 2;
  }
  stratus::detector::TuneAllocatorForImages();
  auto host = stratus::ServiceHost::Create(common.host);
  if (!host.ok()) {
    std::cerr << "error: " << host.status().message() << "\n";
    return 2;
  }
  stratus::metrics::RegisterProcessMetrics((*host)->metrics());

  stratus::detector::DetectorOptions options;
  options.model_dir = model_dir;
  options.models = SplitList(models);
  options.require_models = SplitList(require_models);
  options.runtime.device = device;
  options.runtime.num_threads = threads;
  options.runtime.layout = layout;
  options.batcher.max_batch_size = max_batch;
  options.cpu_max_batch_size = cpu_max_batch;
  options.batcher.max_queue_delay =
      std::chrono::microseconds(static_cast<int64_t>(max_delay_ms * 1000.0));
  options.batcher.max_queue_size = max_queue;
  options.batcher.metrics = &(*host)->metrics();
  if (device != "auto" && device != "cpu" && device.rfind("cuda", 0) != 0) {
    std::cerr << "error: --device must be auto, cpu or cuda:N, got '" << device << "'\n";
    return 2;
  }
  auto detector = stratus::detector::Detector::Create(options);
  if (!detector.ok()) {
    std::cerr << "error: " << detector.status().message() << "\n";
    return 2;
  }
  stratus::detector::DetectorServiceOptions service_options;
  service_options.max_stream_in_flight = stream_in_flight;
  service_options.image_memory_budget = static_cast<size_t>(std::max(0, image_memory_mb)) << 20;
  service_options.max_face_analyses = max_face_analyses;
  service_options.max_face_analyses_waiting = max_face_analyses_waiting;
  service_options.file_root = file_root;
  service_options.metrics = &(*host)->metrics();
  stratus::detector::DetectorServiceImpl service(detector->get(), service_options);
  (*host)->AddService(&service, "stratus.v1.DetectorService");
  stratus::detector::Detector* d = detector->get();
  (*host)->AddReadinessCheck("models", [d] { return d->Readiness(); });
  if (auto s = (*host)->Start(); !s.ok()) {
    SLOG(ERROR) << "cannot start" << stratus::Kv("error", s.message());
    return 1;
  }
  SLOG(INFO) << "detector listening" << stratus::Kv("grpc_port", (*host)->grpc_port())
             << stratus::Kv("http_port", (*host)->http_port());
  (*detector)->StartLoading();
  stratus::ServiceHost::InstallSignalHandlers(host->get());
  (*host)->Wait();
  (*detector)->Shutdown();
  return 0;
}
