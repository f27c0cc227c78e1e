// stratus-bench-sentiment: throughput and latency of the sentiment model and service.
//   1. Model throughput in this process, featurising included, on one thread: texts per
//      second per core at batch 1 and batch 25 (texts / thread CPU seconds, and wall texts/s).
//   2. Cold start of the service: process start to grpc.health.v1 SERVING (model loaded,
//      database migrated and reachable), against an embedded PostgreSQL started beforehand.
//   3. DetectSentiment latency over gRPC (one sequential client on loopback): p50, p99; and
//      BatchDetectSentiment of 25 over gRPC: texts/s.
// Texts are real tweets (TweetEval's test split) unless --data names another file.
//
//   stratus-bench-sentiment [--service build/bin/stratus-sentiment] [--model-dir DIR]
//                           [--data FILE] [--seconds 3] [--requests 2000] [--cold-starts 3]
#include <grpcpp/grpcpp.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/grpc_channel.h"
#include "common/paths.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/auth/client.h"
#include "common/auth/key_store.h"
#include "common/embedded_postgres.h"
#include "common/flags.h"
#include "common/health_client.h"
#include "common/subprocess.h"
#include "services/sentiment/sentiment.h"
#include "services/sentiment/sentiment_model.h"
#include "stratus/v1/sentiment.grpc.pb.h"

namespace {

namespace sent = stratus::sentiment;
namespace v1 = stratus::v1;
using Clock = std::chrono::steady_clock;

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// CPU time (user + system) the process `pid` has used so far, in ms.
double ProcessCpuMs(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(paren + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14 || i == 15) ticks += std::atof(f.c_str());  // utime, stime
  }
  return ticks * 1000.0 / sysconf(_SC_CLK_TCK);
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
  return v[i];
}

struct Throughput {
  double texts_per_cpu_second = 0;
  double texts_per_wall_second = 0;
  int64_t texts = 0;
};

Throughput ModelThroughput(const sent::SentimentModel& model, const std::vector<std::string>& texts,
                           size_t batch, double seconds) {
  Throughput t;
  size_t next = 0;
  std::vector<std::string_view> views(batch);
  const auto start = Clock::now();
  const double cpu0 = ThreadCpuSeconds();
  while (Seconds(Clock::now() - start) < seconds) {
    for (size_t i = 0; i < batch; ++i) views[i] = texts[next++ % texts.size()];
    auto r = model.Classify(views);
    if (!r.ok()) {
      std::cerr << "error: " << r.status() << "\n";
      std::exit(1);
    }
    t.texts += static_cast<int64_t>(batch);
  }
  t.texts_per_cpu_second = t.texts / (ThreadCpuSeconds() - cpu0);
  t.texts_per_wall_second = t.texts / Seconds(Clock::now() - start);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  std::string service, model_dir = stratus::DefaultModelDir(),
                       data = (stratus::SharedDataDir() / "sentiment/tweets_semeval2017/test_text.txt").string();
  double seconds = 3;
  int requests = 2000, cold_starts = 3;
  service = (std::filesystem::path(argv[0]).parent_path() / "stratus-sentiment").string();
  stratus::FlagSet flags("stratus-bench-sentiment",
                         "Sentiment speed: model texts/s per core, cold start, gRPC latency.");
  flags.String("service", "", &service, "stratus-sentiment binary (\"\": skip 2 and 3)");
  flags.String("model-dir", "STRATUS_MODEL_DIR", &model_dir, "model repository");
  flags.String("data", "", &data, "texts, one per line");
  flags.Double("seconds", "", &seconds, "duration of each throughput measurement");
  flags.Int("requests", "", &requests, "DetectSentiment calls for the latency percentiles");
  flags.Int("cold-starts", "", &cold_starts, "service starts to time");
  if (auto s = flags.Parse(argc, argv); !s.ok() || flags.help_requested()) {
    std::cerr << (s.ok() ? "" : std::string(s.message()) + "\n") << flags.Usage();
    return s.ok() ? 0 : 2;
  }
  std::vector<std::string> texts;
  {
    std::ifstream in(data);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && sent::CheckText(line).ok()) texts.push_back(line);
    }
  }
  if (texts.empty()) {
    std::cerr << "error: no texts in '" << data << "'\n";
    return 2;
  }
  size_t bytes = 0;
  for (const auto& t : texts) bytes += t.size();
  nlohmann::ordered_json report;
  report["texts"] = {{"file", data},
                     {"count", texts.size()},
                     {"mean_bytes", static_cast<double>(bytes) / texts.size()}};
  report["machine"] = {{"cores", std::thread::hardware_concurrency()}};
  {
    std::ifstream load("/proc/loadavg");
    double l1 = 0;
    load >> l1;
    report["machine"]["loadavg_1m"] = l1;
  }

  // 1. The model in this process, one thread.
  auto model =
      sent::SentimentModel::Load({.model_dir = model_dir + "/sentiment", .intra_op_threads = 1});
  if (!model.ok()) {
    std::cerr << "error: " << model.status() << "\n";
    return 1;
  }
  std::printf("model %s, load + warm-up %.0f ms; %zu texts (mean %.0f bytes) from %s\n",
              (*model)->Describe().c_str(), (*model)->load_ms(), texts.size(),
              static_cast<double>(bytes) / texts.size(), data.c_str());
  for (size_t batch : {size_t{1}, size_t{25}}) {
    Throughput t = ModelThroughput(**model, texts, batch, seconds);
    std::printf(
        "model, batch %2zu: %8.0f texts/s per core (CPU time), %8.0f texts/s wall, one "
        "thread\n",
        batch, t.texts_per_cpu_second, t.texts_per_wall_second);
    report[absl::StrCat("model_batch_", batch)] = {
        {"texts_per_core_second", t.texts_per_cpu_second},
        {"texts_per_wall_second", t.texts_per_wall_second}};
  }
  if (service.empty()) {
    std::cout << report.dump() << "\n";
    return 0;
  }

  // 2. Cold start.
  const std::string dir =
      std::filesystem::temp_directory_path() / absl::StrCat("stratus-bench-sentiment-", getpid());
  std::filesystem::create_directories(dir);
  auto pg = stratus::EmbeddedPostgres::Start({.data_dir = dir + "/pg"});
  if (!pg.ok()) {
    std::cerr << "error: PostgreSQL: " << pg.status() << "\n";
    return 1;
  }
  {
    // The service reads its API keys from the same database; the calls below send this one.
    auto keys = stratus::auth::KeyStore::Create({.database_url = (*pg)->url()});
    if (!keys.ok()) return 1;
    auto created = (*keys)->CreateKey("bench", {{"*", stratus::auth::Level::kAdmin}});
    if (!created.ok()) {
      std::cerr << "error: API key: " << created.status() << "\n";
      return 1;
    }
    stratus::auth::SetDefaultApiKey(created->key);
  }
  std::vector<double> starts, start_cpu;
  std::unique_ptr<stratus::Subprocess> server;
  std::string address;
  for (int run = 0; run < std::max(1, cold_starts); ++run) {
    server.reset();  // stops the previous one
    auto port = stratus::PickFreePort();
    if (!port.ok()) return 1;
    address = absl::StrCat("127.0.0.1:", *port);
    const auto t0 = Clock::now();
    auto p = stratus::Subprocess::Spawn(
        {.argv = {service, absl::StrCat("--grpc-port=", *port), "--http-port=-1",
                  "--database-url=" + (*pg)->url(), "--model-dir=" + model_dir},
         .log_file = dir + "/sentiment.log"});
    if (!p.ok()) {
      std::cerr << "error: " << p.status() << "\n";
      return 1;
    }
    server = std::move(*p);
    bool serving = false;
    while (Seconds(Clock::now() - t0) < 120 && server->Running()) {
      auto h = stratus::CheckHealth(address, "", std::chrono::milliseconds(200));
      if (h.ok() && *h == stratus::ServingStatus::kServing) {
        serving = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!serving) {
      std::cerr << "error: the service did not reach SERVING (log: " << dir << "/sentiment.log)\n";
      return 1;
    }
    starts.push_back(Seconds(Clock::now() - t0) * 1000);
    start_cpu.push_back(ProcessCpuMs(server->pid()));
  }
  std::printf(
      "cold start (process start to SERVING, %zu runs): median %.0f ms, min %.0f ms, max "
      "%.0f ms (health polled every 5 ms)\n",
      starts.size(), Percentile(starts, 0.5), *std::min_element(starts.begin(), starts.end()),
      *std::max_element(starts.begin(), starts.end()));
  std::printf(
      "cold start CPU time of the service until SERVING: median %.0f ms (what it would "
      "take on an idle core; wall time above includes waiting for a busy CPU)\n",
      Percentile(start_cpu, 0.5));
  report["cold_start_ms"] = {{"median", Percentile(starts, 0.5)},
                             {"cpu_median", Percentile(start_cpu, 0.5)},
                             {"min", *std::min_element(starts.begin(), starts.end())},
                             {"max", *std::max_element(starts.begin(), starts.end())},
                             {"runs", starts.size()}};

  // 3. DetectSentiment over gRPC, one sequential client.
  auto stub = v1::SentimentService::NewStub(stratus::MakeChannel(address));
  std::vector<double> latencies;
  for (int i = 0; i < requests + 50; ++i) {
    v1::DetectSentimentRequest req;
    req.set_text(texts[i % texts.size()]);
    req.set_language_code("en");
    v1::DetectSentimentResponse resp;
    grpc::ClientContext ctx;
    const auto t0 = Clock::now();
    grpc::Status s = stub->DetectSentiment(&ctx, req, &resp);
    const double ms = Seconds(Clock::now() - t0) * 1000;
    if (!s.ok()) {
      std::cerr << "error: DetectSentiment: " << s.error_message() << "\n";
      return 1;
    }
    if (i >= 50) latencies.push_back(ms);  // the first calls set up the channel
  }
  std::printf("DetectSentiment over gRPC (%d sequential calls): p50 %.3f ms, p99 %.3f ms\n",
              requests, Percentile(latencies, 0.5), Percentile(latencies, 0.99));
  report["detect_grpc_ms"] = {{"p50", Percentile(latencies, 0.5)},
                              {"p99", Percentile(latencies, 0.99)},
                              {"calls", requests}};
  int64_t batched = 0;
  std::vector<double> batch_latencies;
  const auto b0 = Clock::now();
  for (size_t next = 0; Seconds(Clock::now() - b0) < seconds;) {
    v1::BatchDetectSentimentRequest req;
    for (int i = 0; i < sent::kMaxBatchTexts; ++i) req.add_text_list(texts[next++ % texts.size()]);
    v1::BatchDetectSentimentResponse resp;
    grpc::ClientContext ctx;
    const auto t0 = Clock::now();
    grpc::Status s = stub->BatchDetectSentiment(&ctx, req, &resp);
    batch_latencies.push_back(Seconds(Clock::now() - t0) * 1000);
    if (!s.ok() || resp.result_list_size() != sent::kMaxBatchTexts) {
      std::cerr << "error: BatchDetectSentiment: " << s.error_message() << "\n";
      return 1;
    }
    batched += sent::kMaxBatchTexts;
  }
  const double batch_rate = batched / Seconds(Clock::now() - b0);
  std::printf(
      "BatchDetectSentiment of 25 over gRPC (one client): %.0f texts/s, p50 %.3f ms per "
      "call\n",
      batch_rate, Percentile(batch_latencies, 0.5));
  report["batch25_grpc"] = {{"texts_per_second", batch_rate},
                            {"p50_ms", Percentile(batch_latencies, 0.5)}};
  server.reset();
  pg->reset();
  std::filesystem::remove_all(dir);
  std::cout << report.dump() << "\n";
  return 0;
}
