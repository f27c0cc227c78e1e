// stratus-bench-mask: Classify latency per face and throughput at batch 1 and batch 16, on the
// core (MaskClassifier::ClassifyCrops, decoded crops) and over gRPC (a MaskService on a free
// local port, JPEG crops in the request: decoding included). One JSON line per configuration:
//   {"path": "core"|"grpc", "batch": B, "runs": N, "ms_per_request_p50", "ms_per_request_p90",
//    "ms_per_face_p50", "faces_per_second", "model", "version", "threads", "layout"}
// Without the trained model in --model-dir it benchmarks a tiny stand-in classifier and says so
// ("model": "tiny-fallback"): the numbers are then the service's own overhead.
//
//   stratus-bench-mask [--model-dir DIR] [--threads N] [--runs N] [--crops FOLDER]
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <thread>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/paths.h"
#include "absl/strings/str_format.h"
#include "common/auth/testing/test_keys.h"
#include "common/flags.h"
#include "common/image.h"
#include "common/logging.h"
#include "common/service_host.h"
#include "services/mask/mask.h"
#include "services/mask/mask_service.h"
#include "services/mask/testing/tiny_mask_model.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5))];
}

std::string EncodeJpeg(const cv::Mat& rgb) {
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  std::vector<uchar> buf;
  cv::imencode(".jpg", bgr, buf);
  return std::string(buf.begin(), buf.end());
}

}  // namespace

int main(int argc, char** argv) {
  stratus::FlagSet flags("stratus-bench-mask",
                         "Mask Classify latency per face and throughput at batch 1 and 16.");
  const char* home = std::getenv("HOME");
  std::string model_dir = std::string(home ? home : "/root") + "/.cache/stratus/models";
  std::string model = "mask";
  std::string crops_dir = (stratus::SharedDataDir() / "masks" / "with_mask").string();
  int threads = 0;
  int runs = 200;
  std::string batches = "1,16";
  flags.String("model-dir", "STRATUS_MODEL_DIR", &model_dir, "the model repository");
  flags.String("model", "", &model, "mask model folder");
  flags.String("crops", "", &crops_dir, "folder of face crops (default: the masks data; none: "
                                        "random crops)");
  flags.Int("threads", "STRATUS_THREADS", &threads, "LibTorch intra-op threads (0: per core)");
  flags.Int("runs", "", &runs, "requests per configuration (after 10 warm-up requests)");
  auto parsed = flags.Parse(argc, argv);
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return 0;
  }
  if (!parsed.ok() || runs < 1) {
    std::cerr << "error: " << (parsed.ok() ? "--runs must be positive" : parsed.message())
              << "\n\n" << flags.Usage();
    return 2;
  }
  std::string label = model;
  if (!fs::exists(fs::path(model_dir) / model / "model.pt")) {
    model_dir = (fs::temp_directory_path() / ("bench_mask_" + std::to_string(::getpid()))).string();
    model = "mask";
    label = "tiny-fallback";
    if (auto s = stratus::mask::testing::WriteTinyMaskModel(model_dir); !s.ok()) {
      std::cerr << "error: " << s.message() << "\n";
      return 1;
    }
    std::cerr << "no trained mask model: benchmarking the tiny stand-in (service overhead)\n";
  }

  // 16 crops: real face crops when available, else random ones of face-crop size.
  std::vector<cv::Mat> crops;
  if (fs::is_directory(crops_dir)) {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(crops_dir)) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    for (const std::string& f : files) {
      auto bytes = stratus::ReadImageFile(f, 15 << 20);
      if (!bytes.ok()) continue;
      auto rgb = stratus::DecodeImage(*bytes);
      if (rgb.ok()) crops.push_back(*rgb);
      if (crops.size() == 16) break;
    }
  }
  while (crops.size() < 16) {
    cv::Mat m(140, 120, CV_8UC3);
    cv::randu(m, cv::Scalar::all(0), cv::Scalar::all(255));
    crops.push_back(m);
  }
  std::vector<std::string> encoded;
  for (const cv::Mat& c : crops) encoded.push_back(EncodeJpeg(c));

  stratus::mask::MaskOptions options;
  options.model_dir = model_dir;
  options.model = model;
  options.runtime.num_threads = threads;
  auto classifier = stratus::mask::MaskClassifier::Create(options);
  if (!classifier.ok() || !(*classifier)->Load().ok()) {
    std::cerr << "error: "
              << (classifier.ok() ? (*classifier)->Readiness().message()
                                  : classifier.status().message())
              << "\n";
    return 1;
  }
  stratus::mask::MaskServiceImpl service(classifier->get(), nullptr);
  stratus::ServiceHost::Options ho;
  ho.service_name = "mask";
  ho.grpc_address = "127.0.0.1";
  ho.http_port = -1;
  ho.api_keys = stratus::auth::testing::TestKeyStore();
  auto host = stratus::ServiceHost::Create(ho);
  if (!host.ok()) return 1;
  (*host)->AddService(&service, "stratus.v1.MaskService");
  if (!(*host)->Start().ok()) return 1;
  auto stub = stratus::v1::MaskService::NewStub(
      stratus::auth::testing::AdminChannel("127.0.0.1:" + std::to_string((*host)->grpc_port())));

  const int hw = static_cast<int>(std::thread::hardware_concurrency());
  for (const char* path : {"core", "grpc"}) {
    for (int batch : {1, 16}) {
      stratus::v1::ClassifyRequest request;
      std::vector<cv::Mat> input;
      for (int i = 0; i < batch; ++i) {
        input.push_back(crops[static_cast<size_t>(i) % crops.size()]);
        request.add_crops()->set_bytes(encoded[static_cast<size_t>(i) % encoded.size()]);
      }
      auto once = [&]() -> bool {
        if (std::string(path) == "core") return (*classifier)->ClassifyCrops(input).ok();
        stratus::v1::ClassifyResponse response;
        grpc::ClientContext ctx;
        return stub->Classify(&ctx, request, &response).ok() &&
               response.results_size() == batch;
      };
      for (int i = 0; i < 10; ++i) {
        if (!once()) {
          std::cerr << "error: classify failed (" << path << ", batch " << batch << ")\n";
          return 1;
        }
      }
      std::vector<double> ms;
      const auto start = Clock::now();
      for (int i = 0; i < runs; ++i) {
        const auto t0 = Clock::now();
        once();
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
      const double total_s = std::chrono::duration<double>(Clock::now() - start).count();
      std::cout << absl::StrFormat(
          "{\"path\": \"%s\", \"batch\": %d, \"runs\": %d, \"ms_per_request_p50\": %.3f, "
          "\"ms_per_request_p90\": %.3f, \"ms_per_face_p50\": %.3f, \"faces_per_second\": %.1f, "
          "\"model\": \"%s\", \"version\": \"%s\", \"threads\": %d, \"crop_size\": \"%dx%d\"}\n",
          path, batch, runs, Percentile(ms, 0.5), Percentile(ms, 0.9),
          Percentile(ms, 0.5) / batch, runs * batch / total_s, label,
          (*classifier)->version(), threads > 0 ? threads : hw, crops[0].cols, crops[0].rows);
      std::cout.flush();
    }
  }
  (*host)->Shutdown();
  if (label == "tiny-fallback") fs::remove_all(model_dir);
  return 0;
}
