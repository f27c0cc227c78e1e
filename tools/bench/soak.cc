// stratus-soak: a soak program (not a timed test) against a RUNNING platform (what `stratus up`
// starts): many concurrent clients over gRPC and over the AWS JSON endpoints for minutes, printing
// throughput, latency and every service's memory as it goes.
//
//   stratus-soak [--clients=100] [--minutes=10] [--interval-s=10] [--warmup-s=30] [--mix=...]
//                [--sentiment=127.0.0.1:50055] [--ingest=127.0.0.1:50051]
//                [--comprehend=http://127.0.0.1:8085] [--rekognition=http://127.0.0.1:8083]
//                [--metrics=ingest=http://127.0.0.1:8081,...] [--data=FILE] [--photo=FILE]
//
// Each client is a thread calling one operation, one request after the other as fast as answers
// come (or at most --rate requests/s for the operations it names). --mix gives the operations'
// shares of the clients (relative weights, name=weight,...; every operation with a weight gets
// at least one client):
//   aws-sentiment      Comprehend DetectSentiment, SigV4-signed, over the client's own keep-alive
//                      connection to --comprehend (common/http_client.h HttpConnection)
//   aws-detect-faces   Rekognition DetectFaces of --photo (Image.Bytes), own keep-alive
//                      connection to --rekognition
//   grpc-sentiment     SentimentService.DetectSentiment over one channel shared by all clients
//   grpc-list-streams  IngestService.ListStreams, one shared channel
//   grpc-list-events   IngestService.ListEvents (100 newest), the same channel
// The default mix is mostly AWS DetectSentiment clients, with one paced DetectFaces client (one
// DetectFaces costs the CPU of hundreds of DetectSentiment calls: unpaced, a few clients of it
// would take the machine).
//
// Credentials as the stratus tool finds them: the AWS pair from --access-key-id/
// --secret-access-key ($STRATUS_AWS_ACCESS_KEY_ID/$STRATUS_AWS_SECRET_ACCESS_KEY), else profile
// [stratus] of --credentials-file (default $STRATUS_CREDENTIALS_FILE, else
// $STRATUS_DATA_DIR/credentials, else var/credentials: where `stratus up` writes it); the API key
// of the gRPC calls from --api-key ($STRATUS_API_KEY), else stratus_api_key in that file
// (common/auth/client.h ApiKeyFromEnvironment). https:// endpoints are TLS trusting
// $STRATUS_TLS_CA (or the CA of a `stratus up --tls` data dir for gRPC, as the stratus tool).
//
// Every --interval-s it prints one line per operation (requests/s, p50, p99, errors with the
// first error message of the interval) and one line with the resident memory of every service
// (process_resident_memory_bytes from its /metrics) and of this program. At the end a summary:
// per operation the requests, requests/s, p50, p99 and errors of the time after --warmup-s (and
// the warm-up's requests and errors), the TCP connects of the AWS connections, and per service
// the RSS growth from the first sample after the warm-up to the end, in %. Latencies are kept
// in log-spaced histograms (2% wide buckets, tools/bench/soak_stats.h), so percentiles are
// within ~1%.
// Exit status: 0 when every request succeeded, 1 when any failed (or nothing could be set up),
// 2 on bad flags.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/auth/client.h"
#include "common/aws/credentials.h"
#include "common/aws/json_protocol.h"
#include "common/aws/sigv4.h"
#include "common/flags.h"
#include "common/http_client.h"
#include "common/paths.h"
#include "stratus/v1/ingest.grpc.pb.h"
#include "stratus/v1/sentiment.grpc.pb.h"
#include "tools/bench/soak_stats.h"

namespace {

namespace aws = stratus::aws;
namespace v1 = stratus::v1;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

// ---- operations ----

enum Op { kAwsSentiment, kAwsDetectFaces, kGrpcSentiment, kGrpcListStreams, kGrpcListEvents };
constexpr int kOps = 5;
const std::vector<std::string> kOpNames = {"aws-sentiment", "aws-detect-faces", "grpc-sentiment",
                                           "grpc-list-streams", "grpc-list-events"};
constexpr char kDefaultMix[] =
    "aws-sentiment=85,grpc-sentiment=10,grpc-list-streams=2,grpc-list-events=2,"
    "aws-detect-faces=1";
constexpr char kDefaultRate[] = "aws-detect-faces=2";

struct OpWindow {
  stratus::bench::LatencyHistogram ok;  // latencies of the successful requests
  int64_t errors = 0;
  std::string first_error;

  void Merge(const OpWindow& o) {
    ok.Merge(o.ok);
    errors += o.errors;
    if (first_error.empty()) first_error = o.first_error;
  }
};

// What one client measured since the main thread last collected it.
struct ClientWindow {
  std::mutex mu;
  std::array<OpWindow, kOps> ops;
};

// ---- endpoints ----

struct AwsTarget {
  std::string host_port;      // "host:port" or "https://host:port"
  std::string service;        // SigV4 scope
  std::string target_prefix;  // X-Amz-Target prefix
};

// "http://h:p/" -> "h:p"; "https://h:p" -> "https://h:p"; INVALID_ARGUMENT otherwise.
absl::StatusOr<std::string> HostPortOf(const std::string& flag, std::string url) {
  absl::string_view v = absl::StripSuffix(url, "/");
  if (absl::ConsumePrefix(&v, "http://")) return std::string(v);
  if (absl::StartsWith(v, "https://")) return std::string(v);
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, ": expected http://host:port or https://host:port, got ", url));
}

// One signed AWS JSON 1.1 request; false with `error` on any failure or non-200 answer.
bool AwsCall(stratus::HttpConnection* conn, const aws::AwsCredentials& creds,
             const AwsTarget& target, const std::string& operation, const std::string& body,
             std::string* error) {
  std::map<std::string, std::string> headers = {
      {"host", conn->host_port()},
      {"content-type", aws::kAmzJson11},
      {"x-amz-target", absl::StrCat(target.target_prefix, operation)}};
  aws::SigningParams signing;
  signing.credentials = creds;
  signing.service = target.service;
  if (auto s = aws::SignRequest(signing, "POST", "/", "", body, &headers); !s.ok()) {
    *error = s.ToString();
    return false;
  }
  headers.erase("host");  // HttpConnection sends the same Host itself
  auto r = conn->Send("POST", "/", headers, body, std::chrono::seconds(10));
  if (!r.ok()) {
    *error = r.status().ToString();
    return false;
  }
  if (r->status != 200) {
    *error = absl::StrCat("HTTP ", r->status, ": ", r->body.substr(0, 300));
    return false;
  }
  return true;
}

// process_resident_memory_bytes of the /metrics at `base_url`; nullopt when unreadable.
std::optional<double> ScrapeRss(const std::string& base_url) {
  auto r = stratus::HttpFetch("GET", base_url + "/metrics", {}, "", std::chrono::seconds(10));
  if (!r.ok() || r->status != 200) return std::nullopt;
  for (absl::string_view line : absl::StrSplit(r->body, '\n')) {
    if (!absl::ConsumePrefix(&line, "process_resident_memory_bytes ")) continue;
    double v = 0;
    std::string value(line.substr(0, line.find(' ')));
    if (absl::SimpleAtod(value, &v)) return v;
  }
  return std::nullopt;
}

double SelfRss() {
  std::ifstream in("/proc/self/statm");
  long pages = 0, resident = 0;
  in >> pages >> resident;
  return static_cast<double>(resident) * sysconf(_SC_PAGESIZE);
}

std::vector<std::string> ReadTexts(const std::string& path) {
  std::vector<std::string> texts;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line) && texts.size() < 5000) {
    if (!line.empty()) texts.push_back(line);
  }
  return texts;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Mib(double bytes) { return absl::StrFormat("%.1f", bytes / (1024.0 * 1024.0)); }

// Everything the clients share, read-only once they run.
struct Shared {
  int clients = 0;
  std::vector<int> op_of_client;
  std::array<double, kOps> rate{};  // requests/s per client; 0: as fast as answers come
  std::array<int, kOps> clients_of_op{};
  aws::AwsCredentials creds;
  AwsTarget comprehend, rekognition;
  std::unique_ptr<v1::SentimentService::Stub> sentiment;
  std::unique_ptr<v1::IngestService::Stub> ingest;
  std::vector<std::string> texts;
  std::string faces_body;  // DetectFaces request JSON
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<ClientWindow>> windows;
  std::vector<int> connects;         // per client, written when it ends
  std::vector<int> aws_connections;  // per client, connections it opened
};

void RunClient(Shared* s, int c) {
  const int op = s->op_of_client[c];
  const double rate = s->rate[op];
  auto next_start = Clock::now();
  std::unique_ptr<stratus::HttpConnection> comprehend, rekognition;
  size_t next_text = static_cast<size_t>(c) * 7919;
  std::string error;
  ClientWindow& window = *s->windows[c];

  // A keep-alive connection, opened on first use (again after a failed Connect).
  auto connection = [&](std::unique_ptr<stratus::HttpConnection>& conn,
                        const AwsTarget& target) -> stratus::HttpConnection* {
    if (conn) return conn.get();
    auto made = stratus::HttpConnection::Connect(target.host_port, std::chrono::seconds(10));
    if (!made.ok()) {
      error = absl::StrCat("connect ", target.host_port, ": ", made.status().ToString());
      return nullptr;
    }
    conn = std::move(*made);
    return conn.get();
  };
  auto deadline = [](grpc::ClientContext* ctx) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  };

  while (!s->stop.load(std::memory_order_relaxed)) {
    if (rate > 0) {  // paced: one request per 1/rate s, no catching up after slow answers
      std::this_thread::sleep_until(next_start);
      if (s->stop.load(std::memory_order_relaxed)) break;
      next_start =
          std::max(Clock::now(), next_start + std::chrono::duration_cast<Clock::duration>(
                                                  std::chrono::duration<double>(1 / rate)));
    }
    const std::string& text = s->texts[next_text++ % s->texts.size()];
    const auto t0 = Clock::now();
    bool ok = false;
    switch (op) {
      case kAwsSentiment: {
        if (auto* conn = connection(comprehend, s->comprehend)) {
          ok = AwsCall(conn, s->creds, s->comprehend, "DetectSentiment",
                       json{{"Text", text}, {"LanguageCode", "en"}}.dump(), &error);
        }
        break;
      }
      case kAwsDetectFaces: {
        if (auto* conn = connection(rekognition, s->rekognition)) {
          ok = AwsCall(conn, s->creds, s->rekognition, "DetectFaces", s->faces_body, &error);
        }
        break;
      }
      case kGrpcSentiment: {
        grpc::ClientContext ctx;
        deadline(&ctx);
        v1::DetectSentimentRequest req;
        req.set_text(text);
        req.set_language_code("en");
        v1::DetectSentimentResponse resp;
        grpc::Status st = s->sentiment->DetectSentiment(&ctx, req, &resp);
        ok = st.ok();
        if (!ok) error = absl::StrCat("gRPC ", st.error_code(), ": ", st.error_message());
        break;
      }
      case kGrpcListStreams: {
        grpc::ClientContext ctx;
        deadline(&ctx);
        v1::ListStreamsResponse resp;
        grpc::Status st = s->ingest->ListStreams(&ctx, v1::ListStreamsRequest(), &resp);
        ok = st.ok();
        if (!ok) error = absl::StrCat("gRPC ", st.error_code(), ": ", st.error_message());
        break;
      }
      case kGrpcListEvents: {
        grpc::ClientContext ctx;
        deadline(&ctx);
        v1::ListEventsRequest req;
        req.set_page_size(100);
        req.set_newest_first(true);
        v1::ListEventsResponse resp;
        grpc::Status st = s->ingest->ListEvents(&ctx, req, &resp);
        ok = st.ok();
        if (!ok) error = absl::StrCat("gRPC ", st.error_code(), ": ", st.error_message());
        break;
      }
    }
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    std::lock_guard<std::mutex> lock(window.mu);
    OpWindow& w = window.ops[op];
    if (ok) {
      w.ok.Add(ms);
    } else if (w.errors++ == 0) {
      w.first_error = error;
    }
  }
  int connects = 0, opened = 0;
  for (auto* conn : {comprehend.get(), rekognition.get()}) {
    if (conn == nullptr) continue;
    connects += conn->connects();
    opened++;
  }
  s->connects[c] = connects;
  s->aws_connections[c] = opened;
}

// Takes what every client measured since the last call.
std::array<OpWindow, kOps> Collect(Shared* s) {
  std::array<OpWindow, kOps> out;
  for (auto& w : s->windows) {
    std::lock_guard<std::mutex> lock(w->mu);
    for (int op = 0; op < kOps; ++op) {
      out[op].Merge(w->ops[op]);
      w->ops[op] = OpWindow();
    }
  }
  return out;
}

std::string OpLine(const std::string& prefix, const std::string& name, const OpWindow& w,
                   double seconds) {
  std::string line =
      absl::StrFormat("%s %-18s %9.1f req/s  p50 %8.2f ms  p99 %8.2f ms  errors %lld", prefix, name,
                      w.ok.count() / seconds, w.ok.Percentile(0.5), w.ok.Percentile(0.99),
                      static_cast<long long>(w.errors));
  if (w.errors > 0) absl::StrAppend(&line, " (first: ", w.first_error, ")");
  return line;
}

struct MetricsTarget {
  std::string name, url;
  std::optional<double> baseline, last, peak;  // RSS bytes after the warm-up
  double last_at_s = 0;                        // when `last` was read
};

}  // namespace

int main(int argc, char** argv) {
  int clients = 100;
  double minutes = 10, interval_s = 10, warmup_s = 30;
  std::string mix = kDefaultMix, rate = kDefaultRate;
  std::string sentiment_addr = "127.0.0.1:50055", ingest_addr = "127.0.0.1:50051";
  std::string comprehend_url = "http://127.0.0.1:8085", rekognition_url = "http://127.0.0.1:8083";
  std::string metrics =
      "ingest=http://127.0.0.1:8081,detector=http://127.0.0.1:8082,"
      "recognition=http://127.0.0.1:8083,mask=http://127.0.0.1:8084,"
      "sentiment=http://127.0.0.1:8085,console=http://127.0.0.1:8086";
  std::string credentials_file;
  if (const char* f = std::getenv("STRATUS_CREDENTIALS_FILE"); f != nullptr && *f != '\0') {
    credentials_file = f;
  } else {
    const char* d = std::getenv("STRATUS_DATA_DIR");
    credentials_file = std::string(d != nullptr && *d != '\0' ? d : "var") + "/credentials";
  }
  std::string access_key_id, secret_access_key, api_key;
  std::string data =
      (stratus::SharedDataDir() / "sentiment/tweets_semeval2017/test_text.txt").string();
  std::string photo = (stratus::SharedDataDir() / "photos/no-mask.jpg").string();

  stratus::FlagSet flags("stratus-soak",
                         "Drives concurrent gRPC and AWS clients against a running platform for "
                         "minutes; prints throughput, p50/p99 and the services' RSS over time.");
  flags.Int("clients", "", &clients, "concurrent clients (threads)");
  flags.Double("minutes", "", &minutes, "length of the run");
  flags.Double("interval-s", "", &interval_s, "seconds between report lines");
  flags.Double("warmup-s", "", &warmup_s,
               "seconds left out of the summary's rates and percentiles; the RSS baseline is "
               "the first sample after it");
  flags.String("mix", "", &mix,
               "operations and their shares of the clients, name=weight,... (aws-sentiment, "
               "aws-detect-faces, grpc-sentiment, grpc-list-streams, grpc-list-events)");
  flags.String("rate", "", &rate,
               "name=requests/s,...: at most this rate per client of these operations (the "
               "others as fast as answers come)");
  flags.String("sentiment", "STRATUS_SENTIMENT_ADDR", &sentiment_addr, "sentiment gRPC address");
  flags.String("ingest", "STRATUS_INGEST_ADDR", &ingest_addr, "ingest gRPC address");
  flags.String("comprehend", "", &comprehend_url, "Comprehend endpoint URL (sentiment)");
  flags.String("rekognition", "", &rekognition_url, "Rekognition endpoint URL (recognition)");
  flags.String("metrics", "", &metrics,
               "name=URL,... of the HTTP ports whose /metrics give each service's RSS");
  flags.String("credentials-file", "", &credentials_file,
               "AWS shared-credentials file with profile [stratus] (the AWS pair and "
               "stratus_api_key)");
  flags.String("access-key-id", "STRATUS_AWS_ACCESS_KEY_ID", &access_key_id,
               "AWS access key id (else from the credentials file)");
  flags.String("secret-access-key", "STRATUS_AWS_SECRET_ACCESS_KEY", &secret_access_key,
               "secret for --access-key-id");
  flags.String("api-key", "STRATUS_API_KEY", &api_key,
               "API key of the gRPC calls (else stratus_api_key of the credentials file)");
  flags.String("data", "", &data, "DetectSentiment texts, one per line");
  flags.String("photo", "", &photo, "the image of DetectFaces");
  if (auto s = flags.Parse(argc, argv); !s.ok() || flags.help_requested()) {
    std::cerr << (s.ok() ? "" : std::string(s.message()) + "\n") << flags.Usage();
    return s.ok() ? 0 : 2;
  }
  auto weights = stratus::bench::ParseNamedValues("mix", mix, kOpNames);
  auto rates = stratus::bench::ParseNamedValues("rate", rate, kOpNames);
  if (!weights.ok() || !rates.ok()) {
    std::cerr << (weights.ok() ? rates.status() : weights.status()).message() << "\n";
    return 2;
  }
  if (std::all_of(weights->begin(), weights->end(), [](double w) { return w <= 0; })) {
    std::cerr << "--mix: no operation has a weight\n";
    return 2;
  }
  if (clients < 1 || minutes <= 0 || interval_s <= 0 || warmup_s < 0) {
    std::cerr << "--clients, --minutes and --interval-s must be positive, --warmup-s not "
                 "negative\n";
    return 2;
  }
  auto comprehend_hp = HostPortOf("comprehend", comprehend_url);
  auto rekognition_hp = HostPortOf("rekognition", rekognition_url);
  if (!comprehend_hp.ok() || !rekognition_hp.ok()) {
    std::cerr << (comprehend_hp.ok() ? rekognition_hp.status() : comprehend_hp.status()).message()
              << "\n";
    return 2;
  }
  std::vector<MetricsTarget> targets;
  for (absl::string_view entry : absl::StrSplit(metrics, ',', absl::SkipWhitespace())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    kv.second = std::string(absl::StripSuffix(kv.second, "/"));
    if (kv.first.empty() || !absl::StartsWith(kv.second, "http")) {
      std::cerr << "--metrics: bad entry \"" << entry << "\" (name=http(s)://host:port)\n";
      return 2;
    }
    targets.push_back({kv.first, kv.second});
  }
  std::cout << std::unitbuf;

  // ---- set-up ----
  auto shared = std::make_unique<Shared>();
  Shared& s = *shared;
  s.clients = clients;
  s.op_of_client = stratus::bench::AssignClients(*weights, clients);
  std::copy(rates->begin(), rates->end(), s.rate.begin());
  for (int op : s.op_of_client) s.clients_of_op[op]++;
  const bool uses_aws = s.clients_of_op[kAwsSentiment] > 0 || s.clients_of_op[kAwsDetectFaces] > 0;
  if (uses_aws) {
    aws::CredentialSources src;
    src.access_key_id = access_key_id;
    src.secret_access_key = secret_access_key;
    src.shared_credentials_file = credentials_file;
    auto creds = aws::LoadCredentials(src);
    if (!creds.ok()) {
      std::cerr << "AWS credentials: " << creds.status().message()
                << " (run `stratus up` first, or give --credentials-file or --access-key-id)\n";
      return 1;
    }
    s.creds = *creds;
  }
  if (api_key.empty()) {
    auto k = aws::ReadCredentialsValue(credentials_file, stratus::auth::kCredentialsProfile,
                                       stratus::auth::kCredentialsKey);
    if (k.ok()) api_key = *k;
  }
  if (auto st = stratus::auth::SetDefaultClientTls(stratus::auth::ClientTlsFromEnvironment());
      !st.ok()) {
    std::cerr << "TLS: " << st.message() << "\n";
    return 1;
  }
  s.comprehend = {*comprehend_hp, "comprehend", "Comprehend_20171127."};
  s.rekognition = {*rekognition_hp, "rekognition", "RekognitionService."};
  s.sentiment =
      v1::SentimentService::NewStub(stratus::auth::CreateChannelWithKey(sentiment_addr, api_key));
  s.ingest = v1::IngestService::NewStub(stratus::auth::CreateChannelWithKey(ingest_addr, api_key));
  s.texts = ReadTexts(data);
  if (s.texts.empty()) {
    std::cerr << "no texts in " << data << " (--data)\n";
    return 1;
  }
  if (s.clients_of_op[kAwsDetectFaces] > 0) {
    std::string bytes = ReadFile(photo);
    if (bytes.empty()) {
      std::cerr << "cannot read " << photo << " (--photo)\n";
      return 1;
    }
    s.faces_body =
        json{{"Image", {{"Bytes", aws::Base64Encode(bytes)}}}, {"Attributes", {"DEFAULT"}}}.dump();
  }
  std::string mix_text;
  for (int op = 0; op < kOps; ++op) {
    if (s.clients_of_op[op] == 0) continue;
    absl::StrAppend(&mix_text, mix_text.empty() ? "" : ", ", kOpNames[op], " ", s.clients_of_op[op],
                    s.clients_of_op[op] == 1 ? " client" : " clients",
                    s.rate[op] > 0 ? absl::StrFormat(" (at most %g/s each)", s.rate[op]) : "");
  }
  std::string loadavg;
  std::getline(std::ifstream("/proc/loadavg"), loadavg);
  std::cout << "stratus-soak: " << clients << " clients, " << minutes << " min, report every "
            << interval_s << " s, warm-up " << warmup_s << " s; "
            << std::thread::hardware_concurrency() << " CPUs, load " << loadavg << "\n"
            << "mix: " << mix_text << "\n"
            << "gRPC sentiment " << sentiment_addr << ", ingest " << ingest_addr << " (API key "
            << (api_key.empty() ? "none" : "set") << "); AWS Comprehend " << comprehend_url
            << ", Rekognition " << rekognition_url << "; " << s.texts.size() << " texts"
            << (s.clients_of_op[kAwsDetectFaces] > 0 ? ", photo " + photo : "") << "\n";

  // ---- run ----
  for (int c = 0; c < clients; ++c) s.windows.push_back(std::make_unique<ClientWindow>());
  s.connects.assign(clients, 0);
  s.aws_connections.assign(clients, 0);
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int c = 0; c < clients; ++c) threads.emplace_back(RunClient, &s, c);

  const double total_s = minutes * 60;
  std::array<OpWindow, kOps> warmup, measured;
  double measured_s = 0;
  auto last = start;
  double elapsed = 0;
  while (elapsed < total_s - 1e-6) {
    const double tick = std::min(total_s, elapsed + interval_s);
    std::this_thread::sleep_until(
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(tick)));
    const auto now = Clock::now();
    std::array<OpWindow, kOps> window = Collect(&s);
    const double seconds = std::chrono::duration<double>(now - last).count();
    elapsed = std::chrono::duration<double>(now - start).count();
    last = now;
    // Intervals scheduled to end within the warm-up (at its end included) count as warm-up.
    const bool in_warmup = tick <= warmup_s + 1e-6;
    const std::string prefix = absl::StrFormat("[%5.0fs]", elapsed);
    for (int op = 0; op < kOps; ++op) {
      if (s.clients_of_op[op] == 0) continue;
      std::cout << OpLine(prefix, kOpNames[op], window[op], seconds) << "\n";
      (in_warmup ? warmup : measured)[op].Merge(window[op]);
    }
    if (!in_warmup) measured_s += seconds;
    std::string rss_line = prefix + " RSS MiB:";
    std::vector<std::optional<double>> rss(targets.size());
    {
      std::vector<std::thread> scrapers;  // in parallel: a loaded service answers slowly
      for (size_t i = 0; i < targets.size(); ++i) {
        scrapers.emplace_back([&, i] { rss[i] = ScrapeRss(targets[i].url); });
      }
      for (auto& t : scrapers) t.join();
    }
    for (size_t i = 0; i < targets.size(); ++i) {
      MetricsTarget& t = targets[i];
      absl::StrAppend(&rss_line, " ", t.name, " ", rss[i] ? Mib(*rss[i]) : "?");
      if (in_warmup || !rss[i]) continue;
      if (!t.baseline) t.baseline = rss[i];
      t.last = rss[i];
      t.last_at_s = elapsed;
      t.peak = std::max(t.peak.value_or(0), *rss[i]);
    }
    absl::StrAppend(&rss_line, " | soak ", Mib(SelfRss()));
    std::cout << rss_line << "\n";
  }
  s.stop = true;
  for (auto& t : threads) t.join();
  std::array<OpWindow, kOps> tail = Collect(&s);  // requests that ended after the last tick
  for (int op = 0; op < kOps; ++op) measured[op].errors += tail[op].errors;

  // ---- summary ----
  int64_t errors = 0, requests = 0;
  std::cout << absl::StrFormat("\n== summary: %d clients, %.0f s (%.0f s after the warm-up) ==\n",
                               clients, elapsed, measured_s);
  for (int op = 0; op < kOps; ++op) {
    if (s.clients_of_op[op] == 0) continue;
    const OpWindow& m = measured[op];
    const OpWindow& w = warmup[op];
    errors += m.errors + w.errors;
    requests += m.ok.count() + m.errors + w.ok.count() + w.errors;
    std::string line = absl::StrFormat(
        "%-18s %10lld requests %9.1f req/s  p50 %8.2f ms  p99 %8.2f ms  errors %lld", kOpNames[op],
        static_cast<long long>(m.ok.count() + m.errors),
        measured_s > 0 ? m.ok.count() / measured_s : 0, m.ok.Percentile(0.5), m.ok.Percentile(0.99),
        static_cast<long long>(m.errors));
    if (m.errors > 0) absl::StrAppend(&line, " (first: ", m.first_error, ")");
    absl::StrAppend(&line, absl::StrFormat(" | warm-up %lld requests, %lld errors",
                                           static_cast<long long>(w.ok.count() + w.errors),
                                           static_cast<long long>(w.errors)));
    if (w.errors > 0) absl::StrAppend(&line, " (first: ", w.first_error, ")");
    std::cout << line << "\n";
  }
  int connects = 0, connections = 0;
  for (int c = 0; c < clients; ++c) {
    connects += s.connects[c];
    connections += s.aws_connections[c];
  }
  std::cout << "total: " << requests << " requests, " << errors << " errors; AWS: " << connects
            << " TCP connects for " << connections << " keep-alive connections\n";
  std::cout << "RSS from the first sample after the warm-up to the end:\n";
  for (const MetricsTarget& t : targets) {
    if (!t.baseline || !t.last) {
      std::cout << absl::StrFormat("  %-12s no /metrics at %s\n", t.name, t.url);
      continue;
    }
    std::cout << absl::StrFormat(
        "  %-12s %8s -> %8s MiB (peak %s)  %+.1f%%%s\n", t.name, Mib(*t.baseline), Mib(*t.last),
        Mib(*t.peak), 100.0 * (*t.last - *t.baseline) / *t.baseline,
        t.last_at_s + 1 < elapsed ? absl::StrFormat(" (end: the sample at %.0f s)", t.last_at_s)
                                  : "");
  }
  return errors > 0 ? 1 : 0;
}
