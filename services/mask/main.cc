// stratus-mask: classifies faces: with mask, without mask, mask worn incorrectly. Stateless;
// liveness is up as soon as the server listens, the model loads and warms up in the background
// and readiness ("model") turns SERVING once it is ready.
#include <malloc.h>

#include <cstdlib>
#include <iostream>

#include "common/paths.h"
#include "common/logging.h"
#include "common/service_flags.h"
#include "common/service_host.h"
#include "services/mask/detector_client.h"
#include "services/mask/mask.h"
#include "services/mask/mask_service.h"

int main(int argc, char** argv) {
  stratus::FlagSet flags("stratus-mask",
                         "Classifies faces: with mask, without mask, mask worn incorrectly.");
  stratus::CommonServiceFlags common;
  stratus::RegisterCommonServiceFlags(stratus::kMaskDefaults, false, flags, &common);
  stratus::mask::MaskOptions options;
  options.model_dir = stratus::DefaultModelDir();
  std::string detector = "localhost:50052";
  int threads = 0;
  int detector_timeout_ms = 10000;
  std::string device = "auto";
  double margin_x = options.margin_x, margin_top = options.margin_top,
         margin_bottom = options.margin_bottom;
  flags.String("model-dir", "STRATUS_MODEL_DIR", &options.model_dir, "the model repository");
  flags.String("model", "STRATUS_MASK_MODEL", &options.model, "mask model folder in the repository");
  flags.String("detector", "STRATUS_DETECTOR_ADDR", &detector,
               "detector gRPC address, asked for faces when a request gives an image without "
               "boxes");
  flags.Int("detector-timeout-ms", "", &detector_timeout_ms, "deadline of each detector call");
  flags.Int("threads", "STRATUS_THREADS", &threads, "LibTorch intra-op threads (0: one per core)");
  flags.String("device", "STRATUS_DEVICE", &device, "auto | cpu | cuda:N");
  flags.Int("max-batch", "STRATUS_MAX_BATCH", &options.max_batch,
            "most faces per forward of the model (1..256)");
  flags.Double("margin-x", "", &margin_x, "crop margin left and right, fraction of box width");
  flags.Double("margin-top", "", &margin_top, "crop margin above, fraction of box height");
  flags.Double("margin-bottom", "", &margin_bottom, "crop margin below, fraction of box height");
  int exit_code = 0;
  if (!stratus::ParseFlagsOrExit(flags, argc, argv, &exit_code)) return exit_code;
  if (auto s = stratus::ApplyCommonServiceFlags(&common); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 2;
  }
  if (threads < 0) {
    std::cerr << "error: --threads must not be negative\n";
    return 2;
  }
  // Keep freed activations in the heap instead of returning them to the kernel after every
  // forward (runtime/MODELS.md, allocator note).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);

  auto host = stratus::ServiceHost::Create(common.host);
  if (!host.ok()) {
    std::cerr << "error: " << host.status().message() << "\n";
    return 2;
  }
  stratus::metrics::RegisterProcessMetrics((*host)->metrics());
  options.runtime.num_threads = threads;
  options.runtime.device = device;
  options.margin_x = static_cast<float>(margin_x);
  options.margin_top = static_cast<float>(margin_top);
  options.margin_bottom = static_cast<float>(margin_bottom);
  options.metrics = &(*host)->metrics();
  auto classifier = stratus::mask::MaskClassifier::Create(options);
  if (!classifier.ok()) {
    std::cerr << "error: " << classifier.status().message() << "\n";
    return 2;
  }
  stratus::clients::DetectorClient::Options detector_options;
  detector_options.address = detector;
  detector_options.timeout = std::chrono::milliseconds(detector_timeout_ms);
  stratus::mask::DetectorFaceFinder finder(detector_options);
  stratus::mask::MaskServiceImpl service(classifier->get(), &finder);
  (*host)->AddService(&service, "stratus.v1.MaskService");
  stratus::mask::MaskClassifier* c = classifier->get();
  (*host)->AddReadinessCheck("model", [c] { return c->Readiness(); });
  if (auto s = (*host)->Start(); !s.ok()) {
    SLOG(ERROR) << "cannot start" << stratus::Kv("error", s.message());
    return 1;
  }
  SLOG(INFO) << "mask listening" << stratus::Kv("grpc_port", (*host)->grpc_port())
             << stratus::Kv("http_port", (*host)->http_port())
             << stratus::Kv("model_dir", options.model_dir) << stratus::Kv("model", options.model)
             << stratus::Kv("detector", detector);
  (*classifier)->StartLoading();
  stratus::ServiceHost::InstallSignalHandlers(host->get());
  (*host)->Wait();
  return 0;
}
