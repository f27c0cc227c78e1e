// stratus-fake-detector: a DetectorService that answers AnalyzeFaces from the face-api
// reference outputs (golden/faceapi sampleN.json for sampleN.png; other images: no faces) and
// Detect with no detections. It lets the recognition end-to-end test run the whole path
// (AWS SDK -> HTTP -> recognition -> gRPC -> detector) before the real detector has its models.
// Not a product binary.
#include <iostream>

#include "common/paths.h"
#include "common/flags.h"
#include "common/logging.h"
#include "common/service_host.h"
#include "common/status.h"
#include "services/recognition/testing/fake_analyzers.h"
#include "stratus/v1/detector.grpc.pb.h"

namespace {

namespace v1 = ::stratus::v1;

class FakeDetectorService final : public v1::DetectorService::Service {
 public:
  explicit FakeDetectorService(stratus::recognition::testing::FakeFaceAnalyzer* faces) : faces_(faces) {}
  grpc::Status AnalyzeFaces(grpc::ServerContext*, const v1::AnalyzeFacesRequest* request,
                            v1::AnalyzeFacesResponse* response) override {
    auto r = faces_->AnalyzeFaces(*request);
    if (!r.ok()) return stratus::ToGrpcStatus(r.status());
    *response = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status Detect(grpc::ServerContext*, const v1::DetectRequest* request,
                      v1::DetectResponse* response) override {
    auto r = objects_.Detect(*request);
    if (!r.ok()) return stratus::ToGrpcStatus(r.status());
    *response = std::move(*r);
    return grpc::Status::OK;
  }

 private:
  stratus::recognition::testing::FakeFaceAnalyzer* faces_;
  stratus::recognition::testing::FakeObjectDetector objects_;
};

}  // namespace

int main(int argc, char** argv) {
  stratus::FlagSet flags("stratus-fake-detector", "A detector answering from golden outputs.");
  stratus::ServiceHost::Options host_options;
  host_options.service_name = "fake-detector";
  host_options.http_port = -1;
  std::string golden = (stratus::SharedDir() / "golden" / "faceapi").string();
  flags.Int("grpc-port", "", &host_options.grpc_port, "gRPC port");
  flags.String("golden-dir", "STRATUS_GOLDEN_DIR", &golden, "folder with sampleN.png/json");
  std::string keys_file;
  flags.String("api-keys-file", "STRATUS_API_KEYS_FILE", &keys_file,
               "accepted API keys (see common/auth/key_store.h)");
  if (auto s = flags.Parse(argc, argv); !s.ok() || flags.help_requested()) {
    std::cerr << (s.ok() ? "" : std::string(s.message()) + "\n") << flags.Usage();
    return s.ok() ? 0 : 2;
  }
  stratus::recognition::testing::FakeFaceAnalyzer faces;
  auto loaded = faces.AddFaceApiGolden(golden);
  if (!loaded.ok() || *loaded == 0) {
    std::cerr << "error: no golden samples in " << golden << "\n";
    return 2;
  }
  auto keys = stratus::auth::KeyStore::Create({.keys_file = keys_file});
  if (keys_file.empty() || !keys.ok()) {
    std::cerr << "error: --api-keys-file: " << (keys.ok() ? "required" : keys.status().message())
              << "\n";
    return 2;
  }
  host_options.api_keys = std::move(*keys);
  auto host = stratus::ServiceHost::Create(host_options);
  if (!host.ok()) return 1;
  FakeDetectorService service(&faces);
  (*host)->AddService(&service, "stratus.v1.DetectorService");
  if (auto s = (*host)->Start(); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 1;
  }
  SLOG(INFO) << "fake detector serving" << stratus::Kv("port", (*host)->grpc_port())
             << stratus::Kv("samples", *loaded);
  stratus::ServiceHost::InstallSignalHandlers(host->get());
  (*host)->Wait();
  return 0;
}
