// stratus-bench-detector: the detector service's speed, over gRPC on loopback.
//
//   1. Service overhead: one caller, sequential Detect calls (batch delay 0, so a lone request
//      does not wait for company); per call, the client's round trip minus the model's own time
//      (`inference_ms` the server measured around Model::Forward: preprocessing + forward).
//      Also printed: the image decode alone and the in-process Model::Run-equivalent time, so
//      the overhead can be split.
//   2. Throughput with N concurrent callers (default 8), each in a closed loop for --seconds,
//      with dynamic batching (--max-batch, --max-delay-ms) and without (max batch 1).
//
//   stratus-bench-detector [--model-dir DIR] [--model objects] [--image PHOTO.jpg]
//                          [--callers 8] [--seconds 10] [--requests 200] [--tiny]
// --tiny benchmarks the tiny test models (no imported models needed; numbers then measure the
// service machinery alone).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

#include "common/paths.h"
#include "absl/strings/str_format.h"
#include "common/auth/testing/test_keys.h"
#include "common/flags.h"
#include "common/image.h"
#include "common/logging.h"
#include "common/service_host.h"
#include "services/detector/detector.h"
#include "services/detector/detector_service.h"
#include "services/detector/testing/tiny_models.h"

namespace stratus::detector {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * (v.size() - 1) + 0.5));
  return v[i];
}

struct Bench {
  std::unique_ptr<ServiceHost> host;
  std::unique_ptr<Detector> detector;
  std::unique_ptr<DetectorServiceImpl> service;
  std::shared_ptr<grpc::Channel> channel;

  static absl::StatusOr<std::unique_ptr<Bench>> Start(DetectorOptions options) {
    auto b = std::make_unique<Bench>();
    ServiceHost::Options ho;
    ho.service_name = "detector";
    ho.grpc_address = "127.0.0.1";
    ho.http_port = -1;
    ho.drain_deadline = std::chrono::milliseconds(100);
    ho.api_keys = auth::testing::TestKeyStore();
    auto host = ServiceHost::Create(ho);
    if (!host.ok()) return host.status();
    b->host = std::move(*host);
    options.batcher.metrics = &b->host->metrics();
    auto d = Detector::Create(options);
    if (!d.ok()) return d.status();
    b->detector = std::move(*d);
    if (auto s = b->detector->Load(); !s.ok()) return s;
    b->service = std::make_unique<DetectorServiceImpl>(b->detector.get(), DetectorServiceOptions{});
    b->host->AddService(b->service.get(), "stratus.v1.DetectorService");
    if (auto s = b->host->Start(); !s.ok()) return s;
    b->channel = auth::testing::AdminChannel("127.0.0.1:" + std::to_string(b->host->grpc_port()));
    return b;
  }
  ~Bench() {
    if (host) host->Shutdown();
    if (detector) detector->Shutdown();
  }
};

struct Throughput {
  double images_per_s = 0;
  double mean_batch = 0;
  double model_ms_per_image = 0;  // inference_ms / batch_size, averaged over responses
  double p50_ms = 0;
  double p99_ms = 0;
  int errors = 0;
};

Throughput RunCallers(Bench& b, const v1::DetectRequest& request, int callers, double seconds) {
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  Throughput t;
  std::vector<std::vector<double>> latencies(callers);
  std::vector<double> batch_sum(callers, 0), per_image_sum(callers, 0);
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int c = 0; c < callers; ++c) {
    threads.emplace_back([&, c] {
      // One channel per caller, as separate clients would have.
      auto stub = v1::DetectorService::NewStub(
          auth::testing::AdminChannel("127.0.0.1:" + std::to_string(b.host->grpc_port())));
      while (!stop.load()) {
        grpc::ClientContext ctx;
        v1::DetectResponse r;
        const auto t0 = Clock::now();
        if (!stub->Detect(&ctx, request, &r).ok()) {
          errors++;
          continue;
        }
        latencies[c].push_back(Ms(Clock::now() - t0));
        batch_sum[c] += r.batch_size();
        per_image_sum[c] += r.inference_ms() / std::max(1, r.batch_size());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  double batches = 0, per_image = 0;
  for (int c = 0; c < callers; ++c) {
    all.insert(all.end(), latencies[c].begin(), latencies[c].end());
    batches += batch_sum[c];
    per_image += per_image_sum[c];
  }
  t.model_ms_per_image = all.empty() ? 0 : per_image / all.size();
  t.images_per_s = all.size() / elapsed;
  t.mean_batch = all.empty() ? 0 : batches / all.size();
  t.p50_ms = Percentile(all, 50);
  t.p99_ms = Percentile(all, 99);
  t.errors = errors.load();
  return t;
}

int Main(int argc, char** argv) {
  FlagSet flags("stratus-bench-detector",
                "Service overhead and throughput of the detector over gRPC on loopback.");
  std::string model_dir;
  if (const char* d = std::getenv("STRATUS_MODEL_DIR")) model_dir = d;
  if (model_dir.empty()) {
    const char* home = std::getenv("HOME");
    model_dir = std::string(home ? home : "/root") + "/.cache/stratus/models";
  }
  std::string model = "objects";
  std::string image = (SharedDataDir() / "photos" / "two-masked.jpg").string();
  std::string device = "cpu";
  int callers = 8, requests = 200, max_batch = 8, threads = 0;
  double seconds = 10, max_delay_ms = 2;
  bool tiny = false;
  flags.String("model-dir", "", &model_dir, "model repository");
  flags.String("model", "", &model, "detection model to benchmark");
  flags.String("image", "", &image, "JPEG or PNG to send");
  flags.String("device", "", &device, "auto | cpu | cuda:N");
  flags.Int("callers", "", &callers, "concurrent callers for the throughput runs");
  flags.Int("requests", "", &requests, "sequential requests for the overhead run");
  flags.Int("max-batch", "", &max_batch, "batch size of the batched run");
  flags.Double("max-delay-ms", "", &max_delay_ms, "batch delay of the batched run");
  flags.Int("threads", "", &threads, "LibTorch intra-op threads (0: one per core)");
  flags.Double("seconds", "", &seconds, "length of each throughput run");
  flags.Bool("tiny", "", &tiny, "benchmark the tiny test models instead");
  if (auto s = flags.Parse(argc, argv); !s.ok() || flags.help_requested()) {
    std::cerr << (s.ok() ? "" : std::string(s.message()) + "\n\n") << flags.Usage();
    return s.ok() ? 0 : 2;
  }
  SetLogLevel(LogLevel::kWarning);
  fs::path tiny_dir;
  if (tiny) {
    tiny_dir = fs::temp_directory_path() / ("stratus_bench_tiny_" + std::to_string(::getpid()));
    if (auto s = testing::WriteTinyModels(tiny_dir.string()); !s.ok()) {
      std::cerr << s.message() << "\n";
      return 1;
    }
    model_dir = tiny_dir.string();
  }
  auto bytes = ReadImageFile(image, 5 << 20);
  if (!bytes.ok()) {
    std::cerr << "error: " << bytes.status().message() << "\n";
    return 2;
  }
  v1::DetectRequest request;
  request.set_model(model);
  request.mutable_image()->set_bytes(*bytes);

  DetectorOptions options;
  options.model_dir = model_dir;
  options.models = {model};
  options.require_models = {model};
  options.runtime.device = device;
  options.runtime.num_threads = threads;

  // Image decode alone.
  std::vector<double> decode_ms;
  cv::Mat decoded;
  for (int i = 0; i < 50; ++i) {
    const auto t0 = Clock::now();
    auto m = DecodeImage(*bytes);
    decode_ms.push_back(Ms(Clock::now() - t0));
    if (m.ok()) decoded = *m;
  }
  std::printf("image %s: %dx%d, %zu bytes, decode p50 %.2f ms\n", image.c_str(), decoded.cols,
              decoded.rows, bytes->size(), Percentile(decode_ms, 50));

  // 1. Overhead: sequential calls, the batched configuration (a lone caller does not wait for
  // company: BatcherOptions::skip_delay_when_idle).
  {
    options.batcher.max_batch_size = max_batch;  // as stratus-detector runs by default
    options.batcher.max_queue_delay =
        std::chrono::microseconds(static_cast<int64_t>(max_delay_ms * 1000));
    auto b = Bench::Start(options);
    if (!b.ok()) {
      std::cerr << "error: " << b.status().message() << "\n";
      return 1;
    }
    if (auto r = (*b)->detector->Readiness(); !r.ok()) {
      std::cerr << "error: " << r.message() << "\n";
      return 1;
    }
    // In-process through the core (no gRPC, no image decode): what the model path costs.
    std::vector<double> core_ms, core_inference;
    DetectParams params;
    params.model = model;
    for (int i = 0; i < std::max(10, requests / 4); ++i) {
      const auto t0 = Clock::now();
      auto out = (*b)->detector->Detect(decoded, params);
      core_ms.push_back(Ms(Clock::now() - t0));
      if (out.ok()) core_inference.push_back(out->inference_ms);
    }
    // The gRPC handler called in-process (request parsing, image decode, core; no network).
    std::vector<double> handler_ms;
    for (int i = 0; i < std::max(10, requests / 4); ++i) {
      grpc::ServerContext ctx;
      v1::DetectResponse r;
      const auto t0 = Clock::now();
      (*b)->service->Detect(&ctx, &request, &r);
      handler_ms.push_back(Ms(Clock::now() - t0));
    }
    auto stub = v1::DetectorService::NewStub((*b)->channel);
    // The floor: a gRPC round trip that carries no image and runs no model.
    std::vector<double> floor_ms;
    for (int i = 0; i < requests + 10; ++i) {
      grpc::ClientContext ctx;
      v1::ListModelsResponse r;
      const auto t0 = Clock::now();
      if (!stub->ListModels(&ctx, {}, &r).ok()) return 1;
      if (i >= 10) floor_ms.push_back(Ms(Clock::now() - t0));
    }
    std::vector<double> e2e, overhead, model_ms;
    for (int i = 0; i < requests + 10; ++i) {
      grpc::ClientContext ctx;
      v1::DetectResponse r;
      const auto t0 = Clock::now();
      grpc::Status s = stub->Detect(&ctx, request, &r);
      const double ms = Ms(Clock::now() - t0);
      if (!s.ok()) {
        std::cerr << "error: Detect: " << s.error_message() << "\n";
        return 1;
      }
      if (i < 10) continue;  // warm-up of the channel
      e2e.push_back(ms);
      model_ms.push_back(r.inference_ms());
      overhead.push_back(ms - r.inference_ms());
    }
    std::printf(
        "overhead (%s, %d sequential Detect over gRPC loopback, max batch %d, delay %.1f ms):\n"
        "  round trip p50 %.2f ms p99 %.2f ms; model (inference_ms) p50 %.2f ms\n"
        "  overhead = round trip - inference_ms: p50 %.2f ms, p99 %.2f ms "
        "(of which image decode p50 %.2f ms)\n"
        "  gRPC floor (ListModels round trip): p50 %.2f ms p99 %.2f ms\n"
        "  in-process core Detect (decoded image, no gRPC): p50 %.2f ms, its inference_ms "
        "p50 %.2f ms\n"
        "  in-process gRPC handler (decode + core, no network): p50 %.2f ms\n"
        "  => overhead p50 minus image decode minus output decoding (core - its inference): "
        "%.2f ms\n",
        model.c_str(), requests, max_batch, max_delay_ms, Percentile(e2e, 50), Percentile(e2e, 99),
        Percentile(model_ms, 50), Percentile(overhead, 50), Percentile(overhead, 99),
        Percentile(decode_ms, 50), Percentile(floor_ms, 50), Percentile(floor_ms, 99),
        Percentile(core_ms, 50), Percentile(core_inference, 50), Percentile(handler_ms, 50),
        Percentile(overhead, 50) - Percentile(decode_ms, 50) -
            (Percentile(core_ms, 50) - Percentile(core_inference, 50)));
  }

  // 2. Throughput with and without dynamic batching.
  for (const bool batched : {false, true}) {
    options.batcher.max_batch_size = batched ? max_batch : 1;
    options.cpu_max_batch_size = options.batcher.max_batch_size;  // measure batching on CPU too
    options.batcher.max_queue_delay =
        std::chrono::microseconds(batched ? static_cast<int64_t>(max_delay_ms * 1000) : 0);
    auto b = Bench::Start(options);
    if (!b.ok()) {
      std::cerr << "error: " << b.status().message() << "\n";
      return 1;
    }
    int cap = 0;
    for (const ModelStatus& m : (*b)->detector->ListModels()) {
      if (m.name == model) cap = m.max_batch_size;
    }
    if (batched && cap < max_batch) {
      std::printf("note: the runtime caps '%s' at batch %d (batching did not pay at load)\n",
                  model.c_str(), cap);
    }
    Throughput t = RunCallers(**b, request, callers, seconds);
    std::printf(
        "throughput %s (%d callers, %.0f s, max batch %d, delay %.1f ms): %.1f images/s, "
        "mean batch %.2f, model %.1f ms per image, latency p50 %.1f ms p99 %.1f ms, "
        "errors %d\n",
        batched ? "batched  " : "unbatched", callers, seconds, options.batcher.max_batch_size,
        batched ? max_delay_ms : 0.0, t.images_per_s, t.mean_batch, t.model_ms_per_image, t.p50_ms,
        t.p99_ms, t.errors);
  }
  if (!tiny_dir.empty()) fs::remove_all(tiny_dir);
  return 0;
}

}  // namespace
}  // namespace stratus::detector

int main(int argc, char** argv) { return stratus::detector::Main(argc, argv); }
