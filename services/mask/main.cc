// stratus-mask: classifies faces: with mask, without mask, mask worn incorrectly. Stateless;
// liveness is up as soon as the server listens, the model loads and warms up in the background
// and readiness ("model") turns SERVING once it is ready.

#include <string>

#include "absl/strings/str_cat.h"
#include "common/paths.h"
#include "common/service_main.h"
#include "services/mask/detector_client.h"
#include "services/mask/mask.h"
#include "services/mask/mask_service.h"

int main(int argc, char** argv) {
  namespace mask = stratus::mask;
  stratus::ServiceMain main(
      {.binary = "stratus-mask",
       .summary = "Classifies faces: with mask, without mask, mask worn incorrectly.",
       .defaults = stratus::kMaskDefaults});
  stratus::FlagSet& flags = main.flags();
  mask::MaskOptions options;
  options.model_dir = stratus::DefaultModelDir();
  stratus::clients::DetectorClient::Options detector;
  detector.address = "localhost:50052";
  int detector_timeout_ms = 10000;
  double margin_x = options.margin_x, margin_top = options.margin_top,
         margin_bottom = options.margin_bottom;
  flags.String("model-dir", "STRATUS_MODEL_DIR", &options.model_dir, "the model repository");
  flags.String("model", "STRATUS_MASK_MODEL", &options.model,
               "mask model folder in the repository");
  flags.String("detector", "STRATUS_DETECTOR_ADDR", &detector.address,
               "detector gRPC address, asked for faces when a request gives an image without "
               "boxes");
  flags.Int("detector-timeout-ms", "", &detector_timeout_ms, "deadline of each detector call");
  flags.Int("threads", "STRATUS_THREADS", &options.runtime.num_threads,
            "LibTorch intra-op threads (0: one per core)");
  flags.String("device", "STRATUS_DEVICE", &options.runtime.device, "auto | cpu | cuda:N");
  flags.String("precision", "STRATUS_PRECISION", &options.runtime.precision,
               "fp32 (exact) | bf16 | auto (see runtime/MODELS.md)");
  flags.Int("max-batch", "STRATUS_MAX_BATCH", &options.max_batch,
            "most faces per forward of the model (1..256)");
  flags.Double("margin-x", "", &margin_x, "crop margin left and right, fraction of box width");
  flags.Double("margin-top", "", &margin_top, "crop margin above, fraction of box height");
  flags.Double("margin-bottom", "", &margin_bottom, "crop margin below, fraction of box height");
  return main.Run(argc, argv, [&](stratus::ServiceContext& ctx) -> absl::Status {
    if (options.runtime.num_threads < 0) {
      return absl::InvalidArgumentError("--threads must not be negative");
    }
    options.margin_x = static_cast<float>(margin_x);
    options.margin_top = static_cast<float>(margin_top);
    options.margin_bottom = static_cast<float>(margin_bottom);
    options.metrics = &ctx.metrics();
    absl::StatusOr<std::unique_ptr<mask::MaskClassifier>> created =
        mask::MaskClassifier::Create(options);
    if (!created.ok()) return created.status();
    mask::MaskClassifier* classifier = ctx.Keep(std::move(*created));
    detector.timeout = std::chrono::milliseconds(detector_timeout_ms);
    auto* finder = ctx.Make<mask::DetectorFaceFinder>(detector);
    ctx.host().AddService(ctx.Make<mask::MaskServiceImpl>(classifier, finder),
                          "stratus.v1.MaskService");
    ctx.host().AddReadinessCheck("model", [classifier] { return classifier->Readiness(); });
    ctx.OnStarted([classifier, host = &ctx.host()] {
      classifier->StartLoading([host] { host->RecheckReadiness(); });
    });
    return absl::OkStatus();
  });
}
