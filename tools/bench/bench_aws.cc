// stratus-bench-aws: the AWS JSON endpoints against the gRPC path of the same service, in one
// process and one run, on loopback.
//
//   stratus-bench-aws [--classifier=model|keyword] [--requests=1000] [--connections=1,100]
//                     [--seconds=5] [--data=FILE]
//
// The sentiment service runs as its main.cc wires it (ServiceHost: gRPC and HTTP ports, the AWS
// JSON 1.1 endpoint with SigV4 verification, Comprehend's operations), with the trained model
// (--classifier=model, from $STRATUS_MODEL_DIR/sentiment) or the keyword test classifier, and
// no database (DetectSentiment needs none). The recognition service's AWS endpoint is the same
// HttpServer + AwsJsonEndpoint code.
//
// 1. Latency on one keep-alive connection, requests one after the other: DetectSentiment over
//    gRPC (one channel) and over the AWS endpoint (SigV4-signed per request, one TCP
//    connection: the connect count is printed). p50/p99 and the median overhead of the AWS
//    path.
// 2. Throughput: for each --connections value C, C client threads for --seconds, each with its
//    own keep-alive connection (AWS) or sharing one channel (gRPC), calling DetectSentiment as
//    fast as answers come: requests/s, p50, p99, errors. Clients and servers share the machine.
// 3. The classifier alone on one thread at batch 1 (texts/s), for scale.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/auth/testing/test_keys.h"
#include "common/aws/json_protocol.h"
#include "common/aws/sigv4.h"
#include "common/flags.h"
#include "common/http_client.h"
#include "common/service_host.h"
#include "common/paths.h"
#include "services/sentiment/comprehend_endpoint.h"
#include "services/sentiment/sentiment.h"
#include "services/sentiment/sentiment_model.h"
#include "services/sentiment/sentiment_service.h"
#include "services/sentiment/testing/keyword_classifier.h"
#include "stratus/v1/sentiment.grpc.pb.h"

namespace {

namespace aws = stratus::aws;
namespace sent = stratus::sentiment;
namespace v1 = stratus::v1;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr char kAkid[] = "AKIABENCHBENCHBENCH0";
constexpr char kSecret[] = "benchbenchbenchbenchbenchbenchbenchbench";

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Stats {
  double p50 = 0, p99 = 0;
};
Stats Percentiles(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  auto at = [&](double p) { return v[std::min(v.size() - 1, size_t(p * (v.size() - 1) + 0.5))]; };
  return {at(0.5), at(0.99)};
}

std::string ModelDir() {
  if (const char* d = std::getenv("STRATUS_MODEL_DIR"); d && *d) return d;
  if (const char* c = std::getenv("STRATUS_CACHE"); c && *c) return std::string(c) + "/models";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/root") + "/.cache/stratus/models";
}

// A service on a ServiceHost with its gRPC service and its AWS endpoint.
struct Service {
  std::unique_ptr<stratus::ServiceHost> host;
  std::unique_ptr<aws::AwsJsonEndpoint> endpoint;
  std::string signing_service;  // SigV4 scope
  std::string target_prefix;
};

absl::Status StartHost(const std::string& name, grpc::Service* grpc_service,
                       const std::string& full_name, const std::string& signing_service,
                       aws::AwsErrorDefaults errors, const aws::CredentialsStore* keys,
                       const std::function<void(aws::AwsJsonEndpoint*)>& register_ops,
                       Service* out) {
  stratus::ServiceHost::Options ho;
  ho.service_name = name;
  ho.grpc_address = "127.0.0.1";
  ho.http_address = "127.0.0.1";
  ho.api_keys = stratus::auth::testing::TestKeyStore();  // the gRPC path checks a key, as served
  auto host = stratus::ServiceHost::Create(ho);
  if (!host.ok()) return host.status();
  out->host = std::move(*host);
  out->host->AddService(grpc_service, full_name);
  aws::AwsJsonEndpoint::Options eo;
  eo.credentials = keys;
  eo.sigv4.service = signing_service;
  eo.errors = errors;
  eo.metrics = &out->host->metrics();
  auto endpoint = aws::AwsJsonEndpoint::Create(eo);
  if (!endpoint.ok()) return endpoint.status();
  out->endpoint = std::move(*endpoint);
  register_ops(out->endpoint.get());
  out->endpoint->Install(out->host->http());
  out->signing_service = signing_service;
  return out->host->Start();
}

// One signed AWS JSON request on a keep-alive connection; false on any failure or non-200.
bool AwsCall(stratus::HttpConnection* conn, const std::string& service, const std::string& target,
             const std::string& body, std::string* error) {
  std::map<std::string, std::string> headers = {
      {"host", conn->host_port()}, {"content-type", aws::kAmzJson11}, {"x-amz-target", target}};
  aws::SigningParams signing;
  signing.credentials = {kAkid, kSecret, ""};
  signing.service = service;
  if (auto s = aws::SignRequest(signing, "POST", "/", "", body, &headers); !s.ok()) {
    *error = s.ToString();
    return false;
  }
  headers.erase("host");  // HttpConnection sends the same Host itself
  auto r = conn->Send("POST", "/", headers, body);
  if (!r.ok()) {
    *error = r.status().ToString();
    return false;
  }
  if (r->status != 200) {
    *error = absl::StrCat("HTTP ", r->status, ": ", r->body);
    return false;
  }
  return true;
}

// Times `n` sequential calls (after 20 warm-up calls); empty on the first failure.
std::vector<double> Sequential(int n, const std::function<bool(std::string*)>& call,
                               const std::string& label) {
  std::vector<double> ms;
  std::string error;
  for (int i = 0; i < n + 20; ++i) {
    auto t = Clock::now();
    if (!call(&error)) {
      std::cout << "  " << label << " failed: " << error << "\n";
      return {};
    }
    if (i >= 20) ms.push_back(Ms(Clock::now() - t));
  }
  return ms;
}

void PrintLatency(const std::string& op, const std::vector<double>& grpc_ms,
                  const std::vector<double>& aws_ms, int connects) {
  if (grpc_ms.empty() || aws_ms.empty()) return;
  Stats g = Percentiles(grpc_ms), a = Percentiles(aws_ms);
  std::cout << absl::StrFormat(
      "  %-16s gRPC p50 %.3f ms p99 %.3f ms | AWS p50 %.3f ms p99 %.3f ms (%.0f/s, %d TCP "
      "connect%s) | overhead p50 %+.3f ms\n",
      op, g.p50, g.p99, a.p50, a.p99, 1000.0 / a.p50, connects, connects == 1 ? "" : "s",
      a.p50 - g.p50);
}

struct LoadResult {
  int64_t ok = 0, errors = 0;
  double seconds = 0;
  Stats latency;
  std::string first_error;
};

// `clients` threads calling `call(thread_index, &error)` for `seconds`.
LoadResult Load(int clients, double seconds, const std::function<bool(int, std::string*)>& call) {
  std::atomic<bool> go{false}, stop{false};
  std::vector<std::vector<double>> ms(clients);
  std::vector<int64_t> errors(clients, 0);
  std::vector<std::string> first_error(clients);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      while (!go.load()) std::this_thread::yield();
      std::string error;
      while (!stop.load(std::memory_order_relaxed)) {
        auto t = Clock::now();
        if (call(c, &error)) {
          ms[c].push_back(Ms(Clock::now() - t));
        } else {
          if (errors[c]++ == 0) first_error[c] = error;
        }
      }
    });
  }
  auto t0 = Clock::now();
  go = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  LoadResult r;
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  std::vector<double> all;
  for (int c = 0; c < clients; ++c) {
    all.insert(all.end(), ms[c].begin(), ms[c].end());
    r.errors += errors[c];
    if (r.first_error.empty()) r.first_error = first_error[c];
  }
  r.ok = static_cast<int64_t>(all.size());
  r.latency = Percentiles(std::move(all));
  return r;
}

void PrintLoad(const std::string& label, int clients, const LoadResult& r) {
  std::cout << absl::StrFormat("  %-5s %3d connections: %8.0f requests/s, p50 %.2f ms, p99 %.2f ms",
                               label, clients, r.ok / r.seconds, r.latency.p50, r.latency.p99);
  if (r.errors > 0) std::cout << ", " << r.errors << " errors (first: " << r.first_error << ")";
  std::cout << "\n";
}

std::vector<std::string> ReadTexts(const std::string& path) {
  std::vector<std::string> texts;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line) && texts.size() < 5000) {
    if (!line.empty()) texts.push_back(line);
  }
  if (texts.empty()) {
    texts = {"I love this phone, the camera is amazing", "worst service ever, never again",
             "the meeting is at 10 tomorrow", "great food but the staff was rude"};
  }
  return texts;
}

}  // namespace

int main(int argc, char** argv) {
  std::string classifier = "model", connections = "1,100";
  std::string data =
      (stratus::SharedDataDir() / "sentiment/tweets_semeval2017/test_text.txt").string();
  int requests = 1000;
  double seconds = 5;
  stratus::FlagSet flags("stratus-bench-aws",
                         "AWS JSON endpoints vs gRPC: latency on keep-alive connections and "
                         "DetectSentiment throughput.");
  flags.String("classifier", "", &classifier,
               "model ($STRATUS_MODEL_DIR/sentiment) or keyword (the test classifier)");
  flags.Int("requests", "", &requests, "sequential requests per operation and path");
  flags.String("connections", "", &connections, "client connections of the throughput runs");
  flags.Double("seconds", "", &seconds, "length of each throughput run");
  flags.String("data", "", &data, "DetectSentiment texts, one per line");
  if (auto s = flags.Parse(argc, argv); !s.ok() || flags.help_requested()) {
    std::cerr << (s.ok() ? "" : std::string(s.message()) + "\n") << flags.Usage();
    return s.ok() ? 0 : 2;
  }
  std::cout << std::unitbuf;
  aws::CredentialsStore keys;
  if (auto s = keys.Add({kAkid, kSecret, ""}); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  std::cout << "stratus-bench-aws: " << std::thread::hardware_concurrency() << " CPUs, load " <<
      [] {
        std::ifstream in("/proc/loadavg");
        std::string l;
        std::getline(in, l);
        return l;
      }() << "\n";

  // ---- sentiment ----
  std::unique_ptr<sent::SentimentAnalyzer> analyzer;
  std::unique_ptr<sent::SentimentServiceImpl> sentiment_grpc;
  std::shared_ptr<const sent::SentimentClassifier> model;
  Service sentiment;
  std::vector<std::string> texts = ReadTexts(data);
  {
    if (classifier == "keyword") {
      model = std::make_shared<sent::testing::KeywordClassifier>();
    } else {
      auto loaded = sent::SentimentModel::Load({.model_dir = ModelDir() + "/sentiment"});
      if (!loaded.ok()) {
        std::cerr << "cannot load the sentiment model (" << loaded.status()
                  << "); --classifier=keyword runs without it\n";
        return 1;
      }
      model = std::move(*loaded);
    }
    auto a = sent::SentimentAnalyzer::Create({});
    if (!a.ok()) return 1;
    analyzer = std::move(*a);
    analyzer->SetClassifier(model);
    sentiment_grpc = std::make_unique<sent::SentimentServiceImpl>(analyzer.get());
    auto s = StartHost(
        "sentiment", sentiment_grpc.get(), "stratus.v1.SentimentService", "comprehend",
        aws::ComprehendErrorDefaults(), &keys,
        [&](aws::AwsJsonEndpoint* e) { sent::RegisterComprehendOperations(e, analyzer.get()); },
        &sentiment);
    if (!s.ok()) {
      std::cerr << "sentiment: " << s << "\n";
      return 1;
    }
    std::cout << "sentiment: " << model->Describe() << ", " << texts.size() << " texts\n";
  }

  // ---- 1. latency, one keep-alive connection ----
  std::cout << "\n== one keep-alive connection, " << requests
            << " sequential requests per path ==\n";
  std::unique_ptr<v1::SentimentService::Stub> sentiment_stub;
  std::string sentiment_hostport;
  if (sentiment.host) {
    auto channel = stratus::auth::testing::ReadChannel(
        absl::StrCat("127.0.0.1:", sentiment.host->grpc_port()));
    sentiment_stub = v1::SentimentService::NewStub(channel);
    sentiment_hostport = absl::StrCat("127.0.0.1:", sentiment.host->http_port());
    size_t next = 0;
    auto grpc_ms = Sequential(
        requests,
        [&](std::string* error) {
          grpc::ClientContext ctx;
          v1::DetectSentimentRequest req;
          req.set_text(texts[next++ % texts.size()]);
          req.set_language_code("en");
          v1::DetectSentimentResponse resp;
          grpc::Status s = sentiment_stub->DetectSentiment(&ctx, req, &resp);
          if (!s.ok()) *error = s.error_message();
          return s.ok();
        },
        "gRPC DetectSentiment");
    auto conn = stratus::HttpConnection::Connect(sentiment_hostport);
    if (!conn.ok()) return 1;
    next = 0;
    auto aws_ms = Sequential(
        requests,
        [&](std::string* error) {
          std::string body =
              json{{"Text", texts[next++ % texts.size()]}, {"LanguageCode", "en"}}.dump();
          return AwsCall(conn->get(), "comprehend", "Comprehend_20171127.DetectSentiment", body,
                         error);
        },
        "AWS DetectSentiment");
    PrintLatency("DetectSentiment", grpc_ms, aws_ms, (*conn)->connects());
  }

  // ---- 2. throughput ----
  if (sentiment.host) {
    std::cout << "\n== DetectSentiment throughput, " << seconds << " s per run ==\n";
    for (absl::string_view c_text : absl::StrSplit(connections, ',', absl::SkipEmpty())) {
      int clients = 0;
      if (!absl::SimpleAtoi(c_text, &clients) || clients < 1) continue;
      std::vector<std::unique_ptr<stratus::HttpConnection>> conns;
      for (int c = 0; c < clients; ++c) {
        auto conn = stratus::HttpConnection::Connect(sentiment_hostport);
        if (!conn.ok()) return 1;
        conns.push_back(std::move(*conn));
      }
      std::vector<size_t> next(clients, 0);
      LoadResult a = Load(clients, seconds, [&](int c, std::string* error) {
        std::string body = json{
            {"Text", texts[(c * 7919 + next[c]++) % texts.size()]},
            {"LanguageCode",
             "en"}}.dump();
        return AwsCall(conns[c].get(), "comprehend", "Comprehend_20171127.DetectSentiment", body,
                       error);
      });
      int connects = 0;
      for (const auto& c : conns) connects += c->connects();
      PrintLoad("AWS", clients, a);
      if (connects != clients) {
        std::cout << "        (" << connects << " TCP connects for " << clients
                  << " clients: the server closed connections)\n";
      }
      conns.clear();
      std::fill(next.begin(), next.end(), 0);
      LoadResult g = Load(clients, seconds, [&](int c, std::string* error) {
        grpc::ClientContext ctx;
        v1::DetectSentimentRequest req;
        req.set_text(texts[(c * 7919 + next[c]++) % texts.size()]);
        req.set_language_code("en");
        v1::DetectSentimentResponse resp;
        grpc::Status s = sentiment_stub->DetectSentiment(&ctx, req, &resp);
        if (!s.ok()) *error = s.error_message();
        return s.ok();
      });
      PrintLoad("gRPC", clients, g);
    }

    // ---- 3. the classifier alone ----
    std::vector<std::string_view> one(1);
    const auto t0 = Clock::now();
    int n = 0;
    while (Clock::now() - t0 < std::chrono::seconds(2)) {
      one[0] = texts[n++ % texts.size()];
      if (!model->Classify(one).ok()) break;
    }
    std::cout << absl::StrFormat("\nclassifier alone, one thread, batch 1: %.0f texts/s\n",
                                 n / std::chrono::duration<double>(Clock::now() - t0).count());
  }

  if (sentiment.host) sentiment.host->Shutdown();
  return 0;
}
