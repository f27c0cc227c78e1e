// stratus-bench-ingest: what one core does with 720p H.264, and how many streams a machine holds.
//
//   stratus-bench-ingest                       # decode figures on a generated 720p H.264 clip
//   stratus-bench-ingest --detector HOST:PORT --streams 4 --seconds 30
//       # also N concurrent streams at 5 analysed fps through a running detector
//
// Prints: frames/s decoded per core (every frame decoded, and grab-only with every 5th frame
// decoded, which is how ingest samples); with --detector, per stream fps in/analysed, dropped
// frames, capture-to-event latency p50/p99 and resident memory per stream.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <opencv2/videoio.hpp>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/auth/client.h"
#include "common/grpc_channel.h"
#include "common/flags.h"
#include "common/subprocess.h"
#include "services/ingest/stream_worker.h"

namespace {

double RssMb() {
  std::ifstream in("/proc/self/statm");
  long pages = 0, rss = 0;
  in >> pages >> rss;
  return rss * sysconf(_SC_PAGESIZE) / 1048576.0;
}

double DecodeFps(const std::string& path, int decode_every) {
  // One decoding thread, to report per-core figures.
  setenv("OPENCV_FFMPEG_CAPTURE_OPTIONS", "threads;1", 1);
  cv::VideoCapture cap(path, cv::CAP_FFMPEG);
  unsetenv("OPENCV_FFMPEG_CAPTURE_OPTIONS");
  cv::Mat frame;
  int n = 0;
  auto t0 = std::chrono::steady_clock::now();
  while (cap.grab()) {
    if (++n % decode_every == 0) cap.retrieve(frame);
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return n / s;
}

// p-quantile from a Prometheus histogram (linear within the bucket).
double Quantile(const prometheus::ClientMetric::Histogram& h, double q) {
  if (h.sample_count == 0 || h.bucket.empty()) return 0;
  double rank = q * static_cast<double>(h.sample_count), lower = 0;
  uint64_t below = 0;
  for (const auto& b : h.bucket) {
    if (static_cast<double>(b.cumulative_count) >= rank) {
      double in = static_cast<double>(b.cumulative_count - below);
      double upper = std::isinf(b.upper_bound) ? lower : b.upper_bound;
      return lower + (upper - lower) * (in > 0 ? (rank - below) / in : 0);
    }
    below = b.cumulative_count;
    if (!std::isinf(b.upper_bound)) lower = b.upper_bound;
  }
  return lower;
}

// All streams' capture-to-detections latency histograms, merged.
prometheus::ClientMetric::Histogram analysis_latency(stratus::metrics::Registry& registry) {
  auto& family = stratus::metrics::BuildHistogram()
                     .Name("stratus_ingest_analysis_latency_seconds")
                     .Help("")
                     .Register(registry);
  return family.Add({{"stream", "*"}}, stratus::metrics::LatencyBuckets()).Collect().histogram;
}

}  // namespace

int main(int argc, char** argv) {
  stratus::FlagSet flags("stratus-bench-ingest", "Decode and stream-capacity figures for ingest.");
  std::string detector;
  int streams = 4, seconds = 30;
  double fps = 5;
  flags.String("detector", "", &detector, "a running detector; enables the stream test");
  flags.Int("streams", "", &streams, "concurrent 720p streams");
  flags.Int("seconds", "", &seconds, "how long the stream test runs");
  flags.Double("fps", "", &fps, "analysed frames per second per stream");
  if (auto s = flags.Parse(argc, argv); !s.ok() || flags.help_requested()) {
    std::cerr << s.message() << "\n" << flags.Usage();
    return s.ok() ? 0 : 2;
  }
  stratus::auth::SetDefaultApiKey(stratus::auth::ApiKeyFromEnvironment());  // for --detector
  auto dir = std::filesystem::temp_directory_path() / absl::StrCat("stratus-bench-", getpid());
  std::filesystem::create_directories(dir);
  std::string clip = (dir / "720p.mp4").string();
  auto code = stratus::RunCommand(
      {.argv = {"ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                "testsrc2=size=1280x720:rate=25", "-t", "20", "-c:v", "libx264", "-preset",
                "veryfast", "-pix_fmt", "yuv420p", "-g", "50", clip}});
  if (!code.ok() || *code != 0) {
    std::cerr << "ffmpeg could not make the test clip\n";
    return 1;
  }
  std::cout << "720p H.264 (25 fps, GOP 50), one decoding thread:\n";
  std::cout << "  every frame decoded:              " << DecodeFps(clip, 1) << " frames/s\n";
  std::cout << "  grab all, decode every 5th frame: " << DecodeFps(clip, 5) << " frames/s\n";
  if (!detector.empty()) {
    stratus::metrics::Registry registry;
    std::vector<std::unique_ptr<stratus::ingest::StreamWorker>> workers;
    // Events are not stored here (no PostgreSQL): the figures come from the workers and metrics.
    double rss0 = RssMb();
    auto channel = stratus::MakeChannel(detector);
    auto sources = stratus::ingest::SourcePolicy::Create({.media_roots = {dir.string()}});
    if (!sources.ok()) {
      std::cerr << sources.status().message() << "\n";
      return 1;
    }
    for (int i = 0; i < streams; ++i) {
      stratus::v1::StreamConfig c;
      c.set_name(absl::StrCat("bench", i));
      c.set_uri(clip);
      c.set_sample_fps(static_cast<float>(fps));
      stratus::ingest::WorkerDeps deps;
      deps.detector = channel;
      deps.metrics = &registry;
      deps.replica = "bench";
      deps.events = nullptr;
      deps.sources = sources->get();
      workers.push_back(std::make_unique<stratus::ingest::StreamWorker>(c, deps,
                                                                         stratus::ingest::WorkerOptions{}));
      workers.back()->Start();
    }
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    double rss1 = RssMb();
    double in = 0, analysed = 0, dropped = 0;
    for (auto& w : workers) {
      auto s = w->status();
      in += s.fps_in();
      analysed += s.fps_analysed();
      dropped += s.frames_dropped();
    }
    for (auto& w : workers) w->Stop();
    std::cout << streams << " streams x " << fps << " analysed fps, " << seconds << " s:\n"
              << "  fps in (sum):       " << in << "\n"
              << "  fps analysed (sum): " << analysed << " of " << streams * fps << " wanted\n"
              << "  frames dropped:     " << dropped << "\n"
              << "  capture to detections p50/p99: "
              << Quantile(analysis_latency(registry), 0.5) * 1000 << " / "
              << Quantile(analysis_latency(registry), 0.99) * 1000 << " ms\n"
              << "  resident memory:    " << (rss1 - rss0) / streams << " MB per stream\n";
  }
  std::filesystem::remove_all(dir);
  return 0;
}
