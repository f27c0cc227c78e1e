// stratus-bench-burst: a burst of concurrent large-image requests against the detector service,
// once per memory budget, in one process and one run: how many ran, how many were refused, how
// long they took, and the process's peak resident memory.
//
//   stratus-bench-burst [--requests=50] [--megapixels=12] [--budgets-mb=0,1024]
//                       [--method=faces|objects] [--model-dir=DIR]
//
// The detector service (DetectorServiceImpl over the imported models in --model-dir, CPU) is
// called directly from --requests threads at once, each with the same JPEG (a synthetic scene
// of --megapixels, 4:3); budget 0 is no bound. Peak RSS is VmHWM, reset before each burst
// (/proc/self/clear_refs); the baseline is the RSS with the models loaded and warm. Prints one
// line per budget. Memory freed by one burst stays with the allocator, so compare budgets in
// separate runs (one --budgets-mb value each); several in one run are for a quick look.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/flags.h"
#include "common/paths.h"
#include "services/detector/detector.h"
#include "services/detector/detector_service.h"

namespace {

namespace det = stratus::detector;
namespace v1 = stratus::v1;
using Clock = std::chrono::steady_clock;

// VmRSS or VmHWM of this process, in MiB.
double ProcMib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      double kb = 0;
      std::vector<std::string> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (parts.size() >= 2 && absl::SimpleAtod(parts[1], &kb)) return kb / 1024;
    }
  }
  return -1;
}

void ResetPeak() { std::ofstream("/proc/self/clear_refs") << "5"; }

// A scene with some structure (gradients, shapes, noise) so the JPEG is of realistic size.
std::string SceneJpeg(double megapixels) {
  const int w = static_cast<int>(std::sqrt(megapixels * 1e6 * 4 / 3));
  const int h = w * 3 / 4;
  cv::Mat img(h, w, CV_8UC3);
  cv::randu(img, cv::Scalar(0, 0, 0), cv::Scalar(255, 255, 255));
  cv::GaussianBlur(img, img, cv::Size(0, 0), 3);
  for (int i = 0; i < 40; ++i) {
    cv::circle(img, {(i * 977) % w, (i * 613) % h}, 40 + (i * 37) % 200,
               cv::Scalar((i * 50) % 255, (i * 90) % 255, (i * 130) % 255), -1);
  }
  std::vector<uchar> buf;
  cv::imencode(".jpg", img, buf, {cv::IMWRITE_JPEG_QUALITY, 90});
  return std::string(buf.begin(), buf.end());
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

}  // namespace

int main(int argc, char** argv) {
  stratus::FlagSet flags("stratus-bench-burst",
                         "A burst of concurrent large images against the detector service, per "
                         "memory budget: ran, refused, latency, peak RSS.");
  int requests = 50;
  double megapixels = 12;
  std::string budgets = "0,1024";
  std::string method = "faces";
  std::string model_dir = stratus::DefaultModelDir();
  flags.Int("requests", "", &requests, "concurrent requests per burst");
  flags.Double("megapixels", "", &megapixels, "image size");
  flags.String("budgets-mb", "", &budgets, "image memory budgets to try, MiB (0: no bound)");
  flags.String("method", "", &method, "faces (AnalyzeFaces) | objects (Detect)");
  flags.String("model-dir", "STRATUS_MODEL_DIR", &model_dir, "the model repository");
  if (auto s = flags.Parse(argc, argv); !s.ok() || flags.help_requested()) {
    if (!s.ok()) std::cerr << s.message() << "\n";
    std::cerr << flags.Usage();
    return s.ok() ? 0 : 2;
  }
  if (method != "faces" && method != "objects") {
    std::cerr << "--method must be faces or objects\n";
    return 2;
  }

  det::DetectorOptions options;
  options.model_dir = model_dir;
  options.models = method == "objects"
                       ? std::vector<std::string>{"objects"}
                       : std::vector<std::string>{"faces", "face_landmarks68", "face_descriptor",
                                                  "face_age_gender", "face_expression"};
  options.require_models = {method == "faces" ? "faces" : "objects"};
  options.runtime.device = "cpu";
  auto detector = det::Detector::Create(options);
  if (!detector.ok() || !(*detector)->Load().ok()) {
    std::cerr << "cannot load the detector's models from " << model_dir << "\n";
    return 1;
  }
  const std::string jpeg = SceneJpeg(megapixels);
  std::cout << absl::StrFormat("image: %.1f MP JPEG of %.1f MiB (%.0f MiB decoded); %d at once\n",
                               megapixels, jpeg.size() / 1048576.0, megapixels * 3e6 / 1048576,
                               requests);

  for (absl::string_view b : absl::StrSplit(budgets, ',', absl::SkipEmpty())) {
    int budget_mb = 0;
    if (!absl::SimpleAtoi(b, &budget_mb) || budget_mb < 0) {
      std::cerr << "bad budget '" << b << "'\n";
      return 2;
    }
    det::DetectorServiceOptions so;
    so.image_memory_budget = static_cast<size_t>(budget_mb) << 20;
    det::DetectorServiceImpl service(detector->get(), so);
    auto call = [&]() -> grpc::Status {
      grpc::ServerContext ctx;
      if (method == "faces") {
        v1::AnalyzeFacesRequest req;
        req.mutable_image()->set_bytes(jpeg);
        v1::AnalyzeFacesResponse resp;
        return service.AnalyzeFaces(&ctx, &req, &resp);
      }
      v1::DetectRequest req;
      req.mutable_image()->set_bytes(jpeg);
      v1::DetectResponse resp;
      return service.Detect(&ctx, &req, &resp);
    };
    if (grpc::Status s = call(); !s.ok()) {  // warm-up, and a check that requests work
      std::cerr << "the warm-up request failed: " << s.error_message() << "\n";
      return 1;
    }
    const double baseline = ProcMib("VmRSS");
    ResetPeak();
    std::vector<double> ok_ms, refused_ms;
    std::mutex mu;
    std::atomic<int> other{0};
    std::vector<std::thread> threads;
    const Clock::time_point start = Clock::now();
    for (int i = 0; i < requests; ++i) {
      threads.emplace_back([&] {
        const Clock::time_point t0 = Clock::now();
        grpc::Status s = call();
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        std::lock_guard<std::mutex> lock(mu);
        if (s.ok()) {
          ok_ms.push_back(ms);
        } else if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
          refused_ms.push_back(ms);
        } else {
          ++other;
          std::cerr << "error: " << s.error_message() << "\n";
        }
      });
    }
    for (auto& t : threads) t.join();
    const double wall = std::chrono::duration<double>(Clock::now() - start).count();
    std::cout << absl::StrFormat(
        "budget %s: ran %zu (p50 %.0f ms, max %.0f ms), refused %zu (max %.1f ms), errors %d, "
        "burst %.1f s; RSS baseline %.0f MiB, peak %.0f MiB (+%.0f)\n",
        budget_mb == 0 ? std::string("none") : absl::StrFormat("%d MiB", budget_mb), ok_ms.size(),
        Percentile(ok_ms, 0.5), Percentile(ok_ms, 1.0), refused_ms.size(),
        Percentile(refused_ms, 1.0), other.load(), wall, baseline, ProcMib("VmHWM"),
        ProcMib("VmHWM") - baseline);
  }
  (*detector)->Shutdown();
  return 0;
}
