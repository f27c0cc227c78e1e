// stratus-bench-models: speed of every model in the repository and of the face pipeline,
// against the JavaScript reference (face-api on TF.js WebAssembly, same kind of machine).
//
//   stratus-bench-models [--model-dir DIR] [--models a,b] [--batches 1,8] [--runs N]
//                        [--threads N] [--layout auto|nchw|channels_last] [--no-freeze] [--no-fold]
//                        [--precision fp32|bf16|auto]
//                        [--optimize] [--profile] [--verbose] [--omp-default]
//                        [--image PNG] [--reference timings-wasm.json]
//
// Per model and batch size: ms per image (median over --runs timed calls of Model::Run:
// preprocessing + forward + decoding), images/s, and achieved GFLOP/s = FLOPs counted on the
// model's convolutions and matrix products (Model::flops_per_image) x images / time, against the
// machine's FP32 peak estimated as cores x clock x 32 FLOP/cycle (two 8-wide FMA pipes, AVX2 or
// AMD's double-pumped AVX-512). Then the face pipeline (detect, landmarks, descriptor, age/gender,
// expressions) on a 3-face photo, median ms against the reference's pipeline_ssd_all.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/logging.h"
#include "runtime/face_pipeline.h"
#include "runtime/model.h"
#include "runtime/model_repository.h"
#include "runtime/preprocess.h"

namespace {

using stratus::runtime::AnalyzeOptions;
using stratus::runtime::FacePipeline;
using stratus::runtime::Model;
using stratus::runtime::ModelRepository;
using stratus::runtime::ModelState;
using stratus::runtime::RuntimeOptions;
using Clock = std::chrono::steady_clock;

struct Args {
  std::string model_dir;
  std::vector<std::string> models;
  std::vector<int> batches = {1, 8};
  int runs = 10;
  int threads = 0;
  std::string layout = "auto";
  std::string precision = "fp32";
  bool profile = false;
  bool freeze = true;
  bool optimize = false;
  bool fold = true;
  std::string image;
  std::string reference;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0 : (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

// CPU time of the whole process (all threads), ms: on a shared machine the wall time includes
// waiting for cores other processes hold; CPU time is the work this process did.
double CpuMs() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double Ms(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Cores this process may use x clock x 32 FP32 FLOP per cycle.
double PeakGflops(int threads) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  double mhz = 0;
  while (std::getline(in, line)) {
    if (line.rfind("cpu MHz", 0) == 0) {
      mhz = std::atof(line.substr(line.find(':') + 1).c_str());
      break;
    }
  }
  const int cores = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
  return cores * mhz / 1000.0 * 32.0;
}

// The reference's forward-only and per-model timings for face-api models (median ms).
const std::map<std::string, std::string> kReferenceKey = {
    {"faces", "ssdMobilenetv1_512"},
    {"face_landmarks68", "faceLandmark68Net_112"},
    {"face_descriptor", "faceRecognitionNet_150"},
    {"face_age_gender", "ageGenderNet_112"},
    {"face_expression", "faceExpressionNet_112"},
};

int Usage() {
  std::fprintf(
      stderr,
      "usage: stratus-bench-models [--model-dir DIR] [--models a,b] [--batches 1,8]\n"
      "  [--runs N] [--threads N] [--layout auto|nchw|channels_last] [--no-freeze] [--no-fold]\n"
      "  [--precision fp32|bf16|auto]\n"
      "  [--optimize] [--profile] [--verbose] [--omp-default]\n"
      "  [--image PNG] [--reference timings-wasm.json]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // LibTorch's OpenMP threads spin while they wait for work by default; on a machine shared
  // with other busy processes a spinning thread holds the core its partner needs, and batch-1
  // latency grows ~10x. libgomp reads the policy when it loads, before main: set it and re-exec
  // (unless the caller chose one; --omp-default keeps the library default).
  bool omp_default = false;
  for (int i = 1; i < argc; ++i) omp_default |= std::string(argv[i]) == "--omp-default";
  if (!omp_default && std::getenv("OMP_WAIT_POLICY") == nullptr) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    execv("/proc/self/exe", argv);  // returns only on failure: carry on as is
  }
  Args a;
  const char* env_dir = std::getenv("STRATUS_MODEL_DIR");
  const char* home = std::getenv("HOME");
  a.model_dir = env_dir ? env_dir : std::string(home ? home : "/root") + "/.cache/stratus/models";
  const char* src = std::getenv("STRATUS_SOURCE_DIR");
  const std::string golden = std::string(src ? src : ".") + "/../shared/golden/faceapi/";
  a.image = golden + "sample1.png";
  a.reference = golden + "timings-wasm.json";
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto val = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (k == "--model-dir") {
      a.model_dir = val();
    } else if (k == "--models") {
      a.models = absl::StrSplit(val(), ',', absl::SkipEmpty());
    } else if (k == "--batches") {
      a.batches.clear();
      for (const auto& b : absl::StrSplit(val(), ',', absl::SkipEmpty())) {
        int n;
        if (!absl::SimpleAtoi(b, &n) || n <= 0) return Usage();
        a.batches.push_back(n);
      }
    } else if (k == "--runs") {
      if (!absl::SimpleAtoi(val(), &a.runs) || a.runs <= 0) return Usage();
    } else if (k == "--threads") {
      if (!absl::SimpleAtoi(val(), &a.threads) || a.threads < 0) return Usage();
    } else if (k == "--layout") {
      a.layout = val();
    } else if (k == "--precision") {
      a.precision = val();
    } else if (k == "--optimize") {
      a.optimize = true;
    } else if (k == "--no-fold") {
      a.fold = false;
    } else if (k == "--no-freeze") {
      a.freeze = false;
    } else if (k == "--omp-default") {
      // handled above
    } else if (k == "--verbose") {
      stratus::SetLogLevel(stratus::LogLevel::kDebug);
    } else if (k == "--profile") {
      a.profile = true;
    } else if (k == "--image") {
      a.image = val();
    } else if (k == "--reference") {
      a.reference = val();
    } else {
      return Usage();
    }
  }

  RuntimeOptions options;
  options.device = "cpu";
  options.num_threads = a.threads;
  options.layout = a.layout;
  options.precision = a.precision;
  options.freeze = a.freeze;
  options.optimize_for_inference = a.optimize;
  options.fold_padding = a.fold;
  auto repo = ModelRepository::Load(a.model_dir, a.models, options);
  if (!repo.ok()) {
    std::fprintf(stderr, "%s\n", std::string(repo.status().message()).c_str());
    return 1;
  }
  nlohmann::json ref;
  if (std::ifstream rf(a.reference); rf) rf >> ref;
  const double peak = PeakGflops(a.threads);
  std::printf(
      "model repository %s; threads %d; OMP_WAIT_POLICY=%s; precision %s (CPU bf16: %s); "
      "FP32 peak estimate %.0f GFLOP/s\n",
      a.model_dir.c_str(), a.threads,
      std::getenv("OMP_WAIT_POLICY") ? std::getenv("OMP_WAIT_POLICY") : "(default)",
      a.precision.c_str(), stratus::runtime::CpuHasNativeBf16() ? "yes" : "no", peak);
  std::printf("%-18s %-18s %5s %10s %9s %9s %7s %10s %10s %8s\n", "model", "layout", "batch",
              "ms/image", "images/s", "GFLOP/s", "%peak", "cpu-ms/img", "ref ms", "speedup");

  for (const auto& info : (*repo)->List()) {
    if (info.state != ModelState::kReady) {
      std::printf("%-18s %s: %s\n", info.name.c_str(), stratus::runtime::ModelStateName(info.state),
                  info.error.c_str());
      continue;
    }
    const Model* model = *(*repo)->Get(info.name);
    const auto& in = model->config().input;
    if (a.profile) {
      for (int b : a.batches) {
        auto table = model->ProfileOps(b, 3);
        if (table.ok()) std::printf("%s", table->c_str());
      }
    }
    // Photo-sized inputs are not needed: a frame of the model's input size is what the
    // forward sees after preprocessing (detectors resize anyway).
    cv::Mat img(in.height, in.width, CV_8UC3);
    cv::randu(img, cv::Scalar::all(0), cv::Scalar::all(255));
    for (int b : a.batches) {
      std::vector<cv::Mat> batch(static_cast<size_t>(b), img);
      for (int w = 0; w < 2; ++w) (void)model->Run(batch);
      std::vector<double> t, cpu;
      for (int r = 0; r < a.runs; ++r) {
        const auto t0 = Clock::now();
        const double c0 = CpuMs();
        auto p = model->Run(batch);
        t.push_back(Ms(t0));
        cpu.push_back(CpuMs() - c0);
        if (!p.ok()) {
          std::printf("%-18s error: %s\n", info.name.c_str(),
                      std::string(p.status().message()).c_str());
          break;
        }
      }
      const double per_image = Median(t) / b;
      const double gflops = model->flops_per_image() / 1e9 / (per_image / 1e3);
      double ref_ms = 0;
      if (auto it = kReferenceKey.find(info.name); it != kReferenceKey.end() &&
                                                   ref.contains("forward_only") &&
                                                   ref["forward_only"].contains(it->second)) {
        ref_ms = ref["forward_only"][it->second]["median_ms"].get<double>();
      }
      std::printf(
          "%-18s %-18s %5d %10.2f %9.1f %9.1f %6.1f%% %10.2f %10s %8s\n", info.name.c_str(),
          (model->layout() + (model->precision() == "bf16" ? "+bf16" : "")).c_str(), b, per_image,
          1000.0 / per_image, gflops, 100.0 * gflops / peak, Median(cpu) / b,
          ref_ms > 0 ? std::to_string(ref_ms).substr(0, 6).c_str() : "-",
          ref_ms > 0 ? (std::to_string(ref_ms / per_image).substr(0, 5) + "x").c_str() : "-");
    }
  }

  // The face pipeline on a photo.
  auto pipeline = FacePipeline::Create(**repo, FacePipeline::Options{});
  if (!pipeline.ok()) {
    std::printf("face pipeline: skipped (%s)\n", std::string(pipeline.status().message()).c_str());
    return 0;
  }
  cv::Mat bgr = cv::imread(a.image, cv::IMREAD_COLOR);
  if (bgr.empty()) {
    std::printf("face pipeline: cannot read %s\n", a.image.c_str());
    return 1;
  }
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  size_t faces = 0;
  for (int w = 0; w < 2; ++w) {
    auto r = (*pipeline)->Analyze({rgb}, AnalyzeOptions{});
    if (!r.ok()) {
      std::printf("face pipeline: %s\n", std::string(r.status().message()).c_str());
      return 1;
    }
    faces = (*r)[0].size();
  }
  std::vector<double> t, cpu;
  std::vector<double> st[5];
  for (int r = 0; r < a.runs; ++r) {
    const auto t0 = Clock::now();
    const double c0 = CpuMs();
    stratus::runtime::FaceStageTimes times;
    (void)(*pipeline)->Analyze({rgb}, AnalyzeOptions{}, &times);
    t.push_back(Ms(t0));
    cpu.push_back(CpuMs() - c0);
    st[0].push_back(times.detect_ms);
    st[1].push_back(times.landmarks_ms);
    st[2].push_back(times.descriptor_ms);
    st[3].push_back(times.age_gender_ms);
    st[4].push_back(times.expressions_ms);
  }
  // Preprocessing alone: the photo into the face detector's input (resize, colour, normalise).
  {
    const stratus::runtime::InputSpec& in = (*repo)->Get("faces").value()->config().input;
    std::vector<float> buffer(static_cast<size_t>(3) * in.width * in.height);
    std::vector<double> pre;
    for (int r = 0; r < std::max(10, a.runs); ++r) {
      const auto t0 = Clock::now();
      stratus::runtime::InputGeometry g;
      (void)stratus::runtime::PreprocessImage(rgb, in, stratus::runtime::Layout::kNCHW,
                                              buffer.data(), &g);
      pre.push_back(Ms(t0));
    }
    std::printf("preprocessing %dx%d -> %dx%d (the detector's input): median %.2f ms\n", rgb.cols,
                rgb.rows, in.width, in.height, Median(pre));
  }
  std::printf(
      "face pipeline stages (median ms): detect %.1f, landmarks %.1f, descriptor %.1f, "
      "age/gender %.1f, expressions %.1f\n",
      Median(st[0]), Median(st[1]), Median(st[2]), Median(st[3]), Median(st[4]));
  double ref_ms = 0;
  std::string sample = a.image.substr(a.image.find_last_of('/') + 1);
  sample = sample.substr(0, sample.find('.'));
  if (ref.contains("timings") && ref["timings"].contains(sample)) {
    ref_ms = ref["timings"][sample]["pipeline_ssd_all"]["median_ms"].get<double>();
  }
  std::printf(
      "face pipeline %s (%dx%d, %zu faces): median %.1f ms, min %.1f ms, cpu %.1f ms;"
      " reference %.1f ms; speedup %.1fx (median)\n",
      sample.c_str(), rgb.cols, rgb.rows, faces, Median(t), *std::min_element(t.begin(), t.end()),
      Median(cpu), ref_ms, ref_ms > 0 ? ref_ms / Median(t) : 0);
  std::printf("load average while running: %s",
              [] {
                std::ifstream l("/proc/loadavg");
                std::string s;
                std::getline(l, s);
                return s + "\n";
              }()
                  .c_str());
  return 0;
}
