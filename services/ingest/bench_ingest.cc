// stratus-bench-ingest: what one core does with 720p H.264, and how many streams a machine holds.
//
//   stratus-bench-ingest                       # decode figures on a generated 720p H.264 clip
//   stratus-bench-ingest --detector HOST:PORT --streams 4 --seconds 30
//       # also N concurrent streams at 5 analysed fps through a running detector
//   stratus-bench-ingest --live hls --detector stand-in --streams 1 --seconds 30
//       # the clip served live (ffmpeg -re: HLS with 2-s segments over HTTP, or MPEG-TS over
//       # HTTP with --live mpegts), to a stand-in detector that answers at once
//
// Prints: frames/s decoded per core (every frame decoded, and grab-only with every 5th frame
// decoded, which is how ingest samples); with --live, how the live source's frames arrive
// (arrival rate, bursts) and how many per second each sampling rule takes from the same frames
// (on arrival time, as ingest did, and on the stream's timestamps, as it does); with
// --detector, per stream fps in/analysed, dropped frames, capture-to-event latency p50/p99 and
// resident memory per stream. `--detector stand-in` is the test suite's detector double (it
// finds nothing in the clip, instantly): the figures are ingest's own.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <opencv2/videoio.hpp>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/auth/client.h"
#include "common/flags.h"
#include "common/grpc_channel.h"
#include "common/subprocess.h"
#include "services/ingest/frame_sampler.h"
#include "services/ingest/frame_source.h"
#include "services/ingest/stream_worker.h"
#include "services/ingest/testing/square_detector.h"

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

// Serves `clip` live, in real time and looped, at a new URL: HLS (ffmpeg writing 2-s segments,
// python3's http.server serving them) or MPEG-TS (ffmpeg's own HTTP server, one client per
// process: call once per consumer).
struct LiveServer {
  std::vector<std::unique_ptr<stratus::Subprocess>> processes;
  std::string url;
};
absl::StatusOr<LiveServer> ServeLive(const std::string& kind, const std::string& clip,
                                     const std::filesystem::path& dir) {
  auto port = stratus::PickFreePort();
  if (!port.ok()) return port.status();
  LiveServer live;
  const std::vector<std::string> input = {"ffmpeg", "-hide_banner", "-loglevel", "error",
                                          "-re",    "-stream_loop", "-1",        "-i",
                                          clip,     "-c",           "copy"};
  std::vector<std::string> argv = input;
  if (kind == "mpegts") {
    for (const char* a : {"-f", "mpegts", "-listen", "1"}) argv.push_back(a);
    live.url = absl::StrCat("http://127.0.0.1:", *port, "/live.ts");
    argv.push_back(live.url);
  } else if (kind == "hls") {
    auto hls = dir / absl::StrCat("hls", *port);
    std::filesystem::create_directories(hls);
    for (const char* a :
         {"-f", "hls", "-hls_time", "2", "-hls_list_size", "6", "-hls_flags", "delete_segments"}) {
      argv.push_back(a);
    }
    argv.push_back((hls / "live.m3u8").string());
    auto server =
        stratus::Subprocess::Spawn({.argv = {"python3", "-m", "http.server", std::to_string(*port),
                                             "--bind", "127.0.0.1", "--directory", hls.string()},
                                    .log_file = (dir / "http.log").string()});
    if (!server.ok()) return server.status();
    live.processes.push_back(std::move(*server));
    live.url = absl::StrCat("http://127.0.0.1:", *port, "/live.m3u8");
  } else {
    return absl::InvalidArgumentError("--live is hls or mpegts");
  }
  auto ffmpeg =
      stratus::Subprocess::Spawn({.argv = argv, .log_file = (dir / "ffmpeg.log").string()});
  if (!ffmpeg.ok()) return ffmpeg.status();
  live.processes.push_back(std::move(*ffmpeg));
  // HLS: the playlist exists once the first segments are written.
  std::this_thread::sleep_for(std::chrono::seconds(kind == "hls" ? 7 : 1));
  return live;
}

// Grabs (without decoding) `seconds` of a live source and prints how its frames arrive and what
// each sampling rule takes from them at `fps`.
void CompareSampling(const std::string& url, int seconds, double fps) {
  stratus::v1::StreamConfig config;
  config.set_uri(url);
  auto source = stratus::ingest::OpenFrameSource(config);
  if (!source.ok()) {
    std::cerr << source.status().message() << "\n";
    return;
  }
  stratus::ingest::FrameSampler on_stream_clock(0, fps, (*source)->fps());
  const auto period = std::chrono::duration<double>(1.0 / fps);
  int frames = 0, by_arrival = 0, by_stream_clock = 0, bursts = 0;
  auto t0 = std::chrono::steady_clock::now(), last_sample = std::chrono::steady_clock::time_point{};
  auto last_frame = t0;
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(seconds) &&
         (*source)->Grab()) {
    auto now = std::chrono::steady_clock::now();
    ++frames;
    if (now - last_frame > std::chrono::milliseconds(100)) ++bursts;  // after a pause
    last_frame = now;
    if (now - last_sample >= period) {  // the rule ingest had: arrival time
      ++by_arrival;
      last_sample = now;
    }
    by_stream_clock += on_stream_clock.Sample((*source)->timestamp(),
                                              std::chrono::duration<double>(now - t0).count())
                           ? 1
                           : 0;
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "  frames arrived:          " << frames / s << " /s, in " << bursts / s
            << " bursts/s (a burst: frames after a pause of > 100 ms)\n"
            << "  sampled on arrival time: " << by_arrival / s << " /s of " << fps << " asked\n"
            << "  sampled on stream clock: " << by_stream_clock / s << " /s of " << fps
            << " asked (fps_in on the stream clock: " << on_stream_clock.fps_in() << ")\n";
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
  std::string live;
  flags.String("live", "", &live,
               "serve the clip live and read it over HTTP: hls (2-s segments) or mpegts");
  if (auto s = flags.Parse(argc, argv); !s.ok() || flags.help_requested()) {
    std::cerr << s.message() << "\n" << flags.Usage();
    return s.ok() ? 0 : 2;
  }
  stratus::auth::SetDefaultApiKey(stratus::auth::ApiKeyFromEnvironment());  // for --detector
  auto dir = std::filesystem::temp_directory_path() / absl::StrCat("stratus-bench-", getpid());
  std::filesystem::create_directories(dir);
  std::string clip = (dir / "720p.mp4").string();
  auto code = stratus::RunCommand({.argv = {"ffmpeg",
                                            "-hide_banner",
                                            "-loglevel",
                                            "error",
                                            "-y",
                                            "-f",
                                            "lavfi",
                                            "-i",
                                            "testsrc2=size=1280x720:rate=25",
                                            "-t",
                                            "20",
                                            "-c:v",
                                            "libx264",
                                            "-preset",
                                            "veryfast",
                                            "-pix_fmt",
                                            "yuv420p",
                                            "-g",
                                            "50",
                                            clip}});
  if (!code.ok() || *code != 0) {
    std::cerr << "ffmpeg could not make the test clip\n";
    return 1;
  }
  std::cout << "720p H.264 (25 fps, GOP 50), one decoding thread:\n";
  std::cout << "  every frame decoded:              " << DecodeFps(clip, 1) << " frames/s\n";
  std::cout << "  grab all, decode every 5th frame: " << DecodeFps(clip, 5) << " frames/s\n";
  if (!live.empty()) {
    auto server = ServeLive(live, clip, dir);
    if (!server.ok()) {
      std::cerr << server.status().message() << "\n";
      return 1;
    }
    std::cout << "live " << live << " source, " << seconds << " s, " << fps << " fps asked:\n";
    CompareSampling(server->url, seconds, fps);
  }
  std::unique_ptr<stratus::ingest::testing_util::SquareDetector> stand_in;
  if (detector == "stand-in") {
    stand_in = stratus::ingest::testing_util::StartSquareDetector();
    detector = absl::StrCat("127.0.0.1:", stand_in->grpc_port());
  }
  if (!detector.empty()) {
    stratus::metrics::Registry registry;
    std::vector<std::unique_ptr<stratus::ingest::StreamWorker>> workers;
    // Events are not stored here (no PostgreSQL): the figures come from the workers and metrics.
    double rss0 = RssMb();
    auto channel = stratus::MakeChannel(detector);
    // The live servers are on loopback, which the default policy refuses.
    auto sources = stratus::ingest::SourcePolicy::Create(
        {.allowed_sources = {"127.0.0.0/8"}, .media_roots = {dir.string()}});
    if (!sources.ok()) {
      std::cerr << sources.status().message() << "\n";
      return 1;
    }
    std::vector<LiveServer> servers;
    for (int i = 0; i < streams; ++i) {
      stratus::v1::StreamConfig c;
      c.set_name(absl::StrCat("bench", i));
      c.set_uri(clip);
      if (!live.empty()) {  // a server per stream: ffmpeg's HTTP server takes one client
        auto server = ServeLive(live, clip, dir);
        if (!server.ok()) {
          std::cerr << server.status().message() << "\n";
          return 1;
        }
        c.set_uri(server->url);
        servers.push_back(std::move(*server));
      }
      c.set_sample_fps(static_cast<float>(fps));
      stratus::ingest::WorkerDeps deps;
      deps.detector = channel;
      deps.metrics = &registry;
      deps.replica = "bench";
      deps.events = nullptr;
      deps.sources = sources->get();
      workers.push_back(std::make_unique<stratus::ingest::StreamWorker>(
          c, deps, stratus::ingest::WorkerOptions{}));
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
