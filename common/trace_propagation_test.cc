// Trace Context across real in-process servers: ServiceHost's server interceptor (the call's
// context current in the handler, one access log line per RPC), MakeChannel()'s client
// interceptor (traceparent on outgoing calls) and HttpServer + AwsJsonEndpoint (HTTP -> gRPC).
#include <gmock/gmock.h>
#include <grpc/support/log.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/auth/api_key.h"
#include "common/auth/testing/test_keys.h"
#include "common/aws/json_protocol.h"
#include "common/grpc_channel.h"
#include "common/http_client.h"
#include "common/logging.h"
#include "common/service_flags.h"
#include "common/service_host.h"
#include "common/testing/eventually.h"
#include "common/testing/log_capture.h"
#include "common/trace.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "stratus/v1/sentiment.grpc.pb.h"

namespace stratus {
namespace {

using ::stratus::testing_util::Eventually;
using ::stratus::testing_util::LogCapture;
using ::stratus::testing_util::StderrOf;
using ::testing::MatchesRegex;

constexpr char kMethod[] = "/stratus.v1.SentimentService/DetectSentiment";

// A SentimentService that records the trace context current in its handlers. DetectSentiment
// answers NOT_FOUND for the text "missing" and, for a text starting with "relay", first calls
// the downstream service (when one is set) from inside the handler.
class TracedService final : public v1::SentimentService::Service {
 public:
  void SetDownstream(std::shared_ptr<grpc::Channel> channel) {
    downstream_ = v1::SentimentService::NewStub(std::move(channel));
  }

  grpc::Status DetectSentiment(grpc::ServerContext*, const v1::DetectSentimentRequest* request,
                               v1::DetectSentimentResponse* response) override {
    Record(request->text());
    SLOG(INFO) << "in handler" << Kv("test_text", request->text());
    if (request->text() == "missing") return grpc::Status(grpc::StatusCode::NOT_FOUND, "nothing");
    if (downstream_ != nullptr && absl::StartsWith(request->text(), "relay")) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      v1::DetectSentimentRequest down;
      down.set_text("downstream");
      v1::DetectSentimentResponse ignored;
      grpc::Status s = downstream_->DetectSentiment(&ctx, down, &ignored);
      if (!s.ok()) return s;
    }
    response->set_sentiment(v1::Sentiment::POSITIVE);
    return grpc::Status::OK;
  }

  // A streaming handler: each post's answer carries, in `error`, the trace id current in the
  // handler (a test convention, nothing the real service does).
  grpc::Status Feed(grpc::ServerContext*,
                    grpc::ServerReaderWriter<v1::PostSentiment, v1::Post>* stream) override {
    v1::Post post;
    while (stream->Read(&post)) {
      const trace::TraceContext* t = trace::Current();
      v1::PostSentiment out;
      out.set_id(post.id());
      out.set_error(t != nullptr ? t->trace_id : "<none>");
      stream->Write(out);
    }
    return grpc::Status::OK;
  }

  // The context current in the handler of each DetectSentiment call, by request text; an
  // empty trace_id when none was.
  trace::TraceContext Seen(const std::string& text) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [t, context] : seen_) {
      if (t == text) return context;
    }
    ADD_FAILURE() << "no call with text " << text;
    return {};
  }

 private:
  void Record(const std::string& text) {
    const trace::TraceContext* t = trace::Current();
    std::lock_guard<std::mutex> lock(mu_);
    seen_.emplace_back(text, t != nullptr ? *t : trace::TraceContext{});
  }

  std::unique_ptr<v1::SentimentService::Stub> downstream_;
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, trace::TraceContext>> seen_;
};

std::unique_ptr<ServiceHost> StartHost(const std::string& name, TracedService* service,
                                       int http_port = -1,
                                       aws::AwsJsonEndpoint* endpoint = nullptr) {
  ServiceHost::Options o;
  o.service_name = name;
  o.grpc_address = "127.0.0.1";
  o.http_address = "127.0.0.1";
  o.http_port = http_port;
  o.drain_deadline = std::chrono::milliseconds(200);
  o.api_keys = auth::testing::TestKeyStore();
  auto host = ServiceHost::Create(o);
  EXPECT_TRUE(host.ok()) << host.status();
  if (!host.ok()) return nullptr;
  (*host)->AddService(service, "stratus.v1.SentimentService");
  if (endpoint != nullptr) endpoint->Install((*host)->http());
  absl::Status s = (*host)->Start();
  EXPECT_TRUE(s.ok()) << s;
  return s.ok() ? std::move(*host) : nullptr;
}

std::string Target(const ServiceHost& host) { return absl::StrCat("127.0.0.1:", host.grpc_port()); }

std::shared_ptr<grpc::Channel> Channel(const ServiceHost& host) {
  return MakeChannel({.target = Target(host), .api_key = auth::testing::kAdminKey});
}

// The access log lines of `service` for `method`.
std::vector<LogRecord> AccessLines(const LogCapture& logs, const std::string& service,
                                   const std::string& method = kMethod) {
  std::vector<LogRecord> out;
  for (const LogRecord& r : logs.WithField("logger", "access")) {
    if (r.Field("service") == service && r.Field("method") == method) out.push_back(r);
  }
  return out;
}

// Waits for exactly `n` access lines of `service` (they are written before the status is
// sent, so they are normally there when the call returns).
std::vector<LogRecord> WaitForAccessLines(const LogCapture& logs, const std::string& service,
                                          size_t n) {
  EXPECT_TRUE(Eventually([&] { return AccessLines(logs, service).size() >= n; }))
      << "access lines of " << service << ": " << AccessLines(logs, service).size();
  std::vector<LogRecord> lines = AccessLines(logs, service);
  EXPECT_EQ(lines.size(), n);
  return lines;
}

grpc::Status Detect(v1::SentimentService::Stub& stub, const std::string& text,
                    const std::string& traceparent = "") {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!traceparent.empty()) ctx.AddMetadata(trace::kTraceparentHeader, traceparent);
  v1::DetectSentimentRequest req;
  req.set_text(text);
  v1::DetectSentimentResponse resp;
  return stub.DetectSentiment(&ctx, req, &resp);
}

class TracePropagationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetAccessLog(true);
    back_ = StartHost("back", &back_service_);
    ASSERT_NE(back_, nullptr);
    front_service_.SetDownstream(Channel(*back_));
    front_ = StartHost("front", &front_service_);
    ASSERT_NE(front_, nullptr);
  }
  void TearDown() override {
    if (front_) front_->Shutdown();
    if (back_) back_->Shutdown();
  }

  TracedService front_service_, back_service_;
  std::unique_ptr<ServiceHost> front_, back_;
};

// The handler of a synchronous service runs inside the interceptor's Proceed() on the same
// thread, so the context the interceptor makes current is the handler's (gRPC 1.51 sync API).
TEST_F(TracePropagationTest, HandlerSeesTheCallsContextAndCallsOnInTheSameTrace) {
  LogCapture logs;
  // A plain client (no trace interceptor) sending a traceparent of its own.
  const std::string trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  const std::string caller_span = "00f067aa0ba902b7";
  auto client = v1::SentimentService::NewStub(auth::testing::AdminChannel(Target(*front_)));
  ASSERT_TRUE(Detect(*client, "relay", "00-" + trace_id + "-" + caller_span + "-01").ok());

  std::vector<LogRecord> front = WaitForAccessLines(logs, "front", 1);
  std::vector<LogRecord> back = WaitForAccessLines(logs, "back", 1);
  ASSERT_EQ(front.size(), 1u);
  ASSERT_EQ(back.size(), 1u);

  // Front: a child of the caller's span, current in its handler.
  trace::TraceContext in_front = front_service_.Seen("relay");
  EXPECT_EQ(in_front.trace_id, trace_id);
  EXPECT_EQ(in_front.parent_span_id, caller_span);
  EXPECT_THAT(in_front.span_id, MatchesRegex("[0-9a-f]{16}"));
  EXPECT_NE(in_front.span_id, caller_span);
  EXPECT_EQ(front[0].Field("trace_id"), trace_id);
  EXPECT_EQ(front[0].Field("span_id"), in_front.span_id);
  EXPECT_EQ(front[0].Field("parent_span_id"), caller_span);

  // Back: called from front's handler through MakeChannel, so a child of front's span.
  trace::TraceContext in_back = back_service_.Seen("downstream");
  EXPECT_EQ(in_back.trace_id, trace_id);
  EXPECT_EQ(in_back.parent_span_id, in_front.span_id);
  EXPECT_NE(in_back.span_id, in_front.span_id);
  EXPECT_EQ(back[0].Field("trace_id"), trace_id);
  EXPECT_EQ(back[0].Field("parent_span_id"), front[0].Field("span_id"));
  EXPECT_EQ(back[0].Field("span_id"), in_back.span_id);

  // The handlers' own lines carry the trace id too.
  for (const std::string text : {"relay", "downstream"}) {
    std::vector<LogRecord> mine = logs.WithField("test_text", text);
    ASSERT_EQ(mine.size(), 1u) << text;
    EXPECT_EQ(mine[0].Field("trace_id"), trace_id) << text;
  }
}

TEST_F(TracePropagationTest, ACallWithoutTraceparentStartsANewTraceEachTime) {
  LogCapture logs;
  auto client = v1::SentimentService::NewStub(Channel(*back_));  // no trace current here
  ASSERT_EQ(trace::Current(), nullptr);
  ASSERT_TRUE(Detect(*client, "one").ok());
  ASSERT_TRUE(Detect(*client, "two").ok());
  std::vector<LogRecord> lines = WaitForAccessLines(logs, "back", 2);
  ASSERT_EQ(lines.size(), 2u);
  for (const LogRecord& line : lines) {
    EXPECT_THAT(std::string(line.Field("trace_id")), MatchesRegex("[0-9a-f]{32}"));
    EXPECT_THAT(std::string(line.Field("span_id")), MatchesRegex("[0-9a-f]{16}"));
    EXPECT_FALSE(line.HasField("parent_span_id"));  // the root of its trace
  }
  EXPECT_NE(lines[0].Field("trace_id"), lines[1].Field("trace_id"));
  EXPECT_EQ(back_service_.Seen("one").trace_id, lines[0].Field("trace_id"));
  EXPECT_EQ(back_service_.Seen("two").trace_id, lines[1].Field("trace_id"));

  // An invalid traceparent (uppercase hex) is ignored: a new trace as well.
  const std::string bad = "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01";
  ASSERT_TRUE(Detect(*client, "bad", bad).ok());
  trace::TraceContext seen = back_service_.Seen("bad");
  EXPECT_THAT(seen.trace_id, MatchesRegex("[0-9a-f]{32}"));
  EXPECT_NE(seen.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(seen.parent_span_id, "");
}

// Channels of MakeChannel() and of auth::CreateChannel*() (what ingest and recognition use for
// their backends) alike.
TEST_F(TracePropagationTest, ChannelsSendTheCurrentContextUnlessTheCallHasOne) {
  LogCapture logs;
  const std::vector<std::pair<std::string, std::shared_ptr<grpc::Channel>>> channels = {
      {"MakeChannel", Channel(*back_)},
      {"CreateChannelWithKey", auth::testing::AdminChannel(Target(*back_))}};
  for (const auto& [name, channel] : channels) {
    SCOPED_TRACE(name);
    auto client = v1::SentimentService::NewStub(channel);
    trace::TraceScope scope(trace::NewTrace());
    ASSERT_TRUE(Detect(*client, "scoped " + name).ok());
    trace::TraceContext seen = back_service_.Seen("scoped " + name);
    EXPECT_EQ(seen.trace_id, scope.context().trace_id);
    EXPECT_EQ(seen.parent_span_id, scope.context().span_id);

    // A traceparent the caller set on the ClientContext wins over the current context.
    const std::string trace_id = "0af7651916cd43dd8448eb211c80319c";
    ASSERT_TRUE(
        Detect(*client, "explicit " + name, "00-" + trace_id + "-b7ad6b7169203331-01").ok());
    seen = back_service_.Seen("explicit " + name);
    EXPECT_EQ(seen.trace_id, trace_id);
    EXPECT_EQ(seen.parent_span_id, "b7ad6b7169203331");
  }
}

TEST_F(TracePropagationTest, GrpcCoreLogsGoThroughTheStructuredLog) {
  LogCapture logs;  // ServiceHost::Create() routed gpr_log here
  gpr_log(GPR_ERROR, "core says %d", 42);
  std::vector<LogRecord> lines = logs.WithField("logger", "grpc");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].level, LogLevel::kError);
  EXPECT_EQ(lines[0].message, "core says 42");
}

TEST_F(TracePropagationTest, StreamingHandlersSeeTheCallsContext) {
  auto client = v1::SentimentService::NewStub(Channel(*back_));
  trace::TraceScope scope(trace::NewTrace());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto stream = client->Feed(&ctx);
  for (const char* id : {"a", "b"}) {
    v1::Post post;
    post.set_id(id);
    ASSERT_TRUE(stream->Write(post));
    v1::PostSentiment out;
    ASSERT_TRUE(stream->Read(&out));
    EXPECT_EQ(out.id(), id);
    EXPECT_EQ(out.error(), scope.context().trace_id);
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(TracePropagationTest, AccessLineHasMethodCodeDurationKeyAndPeer) {
  LogCapture logs;
  auto client = v1::SentimentService::NewStub(Channel(*back_));
  SetLogJson(true);
  std::string err = StderrOf([&] {
    EXPECT_EQ(Detect(*client, "missing").error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_TRUE(Detect(*client, "fine").ok());
    WaitForAccessLines(logs, "back", 2);
  });
  SetLogJson(false);

  std::vector<LogRecord> lines = AccessLines(logs, "back");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].level, LogLevel::kInfo);
  EXPECT_EQ(lines[0].Field("method"), kMethod);
  EXPECT_EQ(lines[0].Field("code"), "NOT_FOUND");
  EXPECT_EQ(lines[1].Field("code"), "OK");
  for (const LogRecord& line : lines) {
    EXPECT_EQ(line.Field("service"), "back");
    // The key's id, never the key itself.
    EXPECT_EQ(line.Field("key_id"), *auth::KeyId(auth::testing::kAdminKey));
    EXPECT_THAT(std::string(line.Field("peer")), ::testing::HasSubstr("127.0.0.1:"));
    double ms = -1;
    ASSERT_TRUE(absl::SimpleAtod(std::string(line.Field("duration_ms")), &ms)) << line.Field("duration_ms");
    EXPECT_GE(ms, 0);
    EXPECT_LT(ms, 10000);
  }

  // On stderr, in JSON: one object per line; duration_ms is a number, not a string.
  std::istringstream in(err);
  std::string text;
  int access = 0;
  while (std::getline(in, text)) {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(j.is_object()) << text;
    if (j.value("logger", "") != "access" || j.value("service", "") != "back") continue;
    ++access;
    EXPECT_EQ(j["msg"], "rpc");
    EXPECT_EQ(j["level"], "INFO");
    EXPECT_EQ(j["method"], kMethod);
    EXPECT_TRUE(j["duration_ms"].is_number()) << text;
    EXPECT_TRUE(j["code"] == "NOT_FOUND" || j["code"] == "OK") << text;
    EXPECT_THAT(j.value("trace_id", ""), MatchesRegex("[0-9a-f]{32}")) << text;
  }
  EXPECT_EQ(access, 2) << err;
}

TEST_F(TracePropagationTest, HealthChecksAreNotLoggedAndTheSwitchTurnsTheLogOff) {
  LogCapture logs;
  auto client = v1::SentimentService::NewStub(Channel(*back_));
  SetAccessLog(false);
  EXPECT_TRUE(Detect(*client, "quiet").ok());
  SetAccessLog(true);
  EXPECT_EQ(back_service_.Seen("quiet").trace_id.size(), 32u);  // traced all the same
  EXPECT_TRUE(Detect(*client, "loud").ok());
  auto health = grpc::health::v1::Health::NewStub(Channel(*back_));
  for (int i = 0; i < 2; ++i) {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest req;
    grpc::health::v1::HealthCheckResponse resp;
    EXPECT_TRUE(health->Check(&ctx, req, &resp).ok());
  }
  EXPECT_TRUE(Detect(*client, "last").ok());
  WaitForAccessLines(logs, "back", 2);  // loud and last
  for (const LogRecord& r : logs.WithField("logger", "access")) {
    EXPECT_FALSE(absl::StartsWith(std::string(r.Field("method")), "/grpc.health.v1.Health/"))
        << r.Field("method");
  }
}

// A call refused for its API key never reaches the server's interceptors: no access line (the
// refusal has its own rate-limited warning, "refused RPC", and stratus_auth_refusals_total).
TEST_F(TracePropagationTest, CallsRefusedForTheirKeyHaveNoAccessLine) {
  LogCapture logs;
  grpc::Status s = auth::testing::RawCall(Target(*back_), kMethod, "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  auto client = v1::SentimentService::NewStub(Channel(*back_));
  EXPECT_TRUE(Detect(*client, "after").ok());
  std::vector<LogRecord> lines = WaitForAccessLines(logs, "back", 1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].Field("code"), "OK");
  int refused = 0;
  for (const LogRecord& r : logs.records()) {
    if (r.message == "refused RPC" && r.Field("service") == "back") {
      ++refused;
      EXPECT_EQ(r.level, LogLevel::kWarning);
      EXPECT_EQ(r.Field("method"), kMethod);
    }
  }
  EXPECT_EQ(refused, 1);
}

TEST(AccessLogFlagTest, CommonServiceFlagsSetTheSwitch) {
  char dir_template[] = "/tmp/stratus-access-flag-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string keys = std::string(dir_template) + "/keys";
  { FILE* f = std::fopen(keys.c_str(), "w"); ASSERT_NE(f, nullptr); std::fclose(f); }
  const std::string keys_flag = "--api-keys-file=" + keys;
  for (const char* arg : {"--no-access-log", "--access-log=off", "--access-log"}) {
    SCOPED_TRACE(arg);
    FlagSet flags("test", "");
    CommonServiceFlags common;
    RegisterCommonServiceFlags(kSentimentDefaults, false, flags, &common);
    EXPECT_TRUE(common.access_log);  // the default
    char* argv[] = {const_cast<char*>("test"), const_cast<char*>(keys_flag.c_str()),
                    const_cast<char*>(arg)};
    ASSERT_TRUE(flags.Parse(3, argv).ok());
    const bool want = std::string(arg) == "--access-log";
    SetAccessLog(!want);
    ASSERT_TRUE(ApplyCommonServiceFlags(&common).ok());
    EXPECT_EQ(AccessLogEnabled(), want);
  }
  SetAccessLog(true);
  std::remove(keys.c_str());
  rmdir(dir_template);
}

// HTTP -> gRPC: an AWS JSON request's traceparent reaches the gRPC service its handler calls
// (through the endpoint's handler pool), and the answer's x-amzn-RequestId is the trace id.
TEST(HttpToGrpcTraceTest, AwsRequestTraceReachesTheGrpcServiceItCalls) {
  LogCapture logs;
  SetAccessLog(true);
  TracedService back_service;
  std::unique_ptr<ServiceHost> back = StartHost("back", &back_service);
  ASSERT_NE(back, nullptr);
  auto stub = v1::SentimentService::NewStub(Channel(*back));

  aws::AwsJsonEndpoint::Options o;
  o.require_signature = false;
  o.handler_threads = 2;
  auto endpoint = aws::AwsJsonEndpoint::Create(o);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  (*endpoint)->Register("Comprehend_20171127.DetectSentiment",
                        [&stub](const nlohmann::json& req) -> absl::StatusOr<nlohmann::json> {
                          grpc::Status s = Detect(*stub, req.value("Text", ""));
                          if (!s.ok()) return absl::UnavailableError(s.error_message());
                          return nlohmann::json{{"Sentiment", "POSITIVE"}};
                        });
  TracedService front_service;
  std::unique_ptr<ServiceHost> front = StartHost("front", &front_service, 0, endpoint->get());
  ASSERT_NE(front, nullptr);

  const std::string trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  auto r = HttpFetch("POST", absl::StrCat("http://127.0.0.1:", front->http_port(), "/"),
                     {{"content-type", "application/x-amz-json-1.1"},
                      {"x-amz-target", "Comprehend_20171127.DetectSentiment"},
                      {"traceparent", "00-" + trace_id + "-00f067aa0ba902b7-01"}},
                     R"({"Text": "from http"})");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->headers["x-amzn-requestid"], trace_id);

  std::vector<LogRecord> http_access;
  for (const LogRecord& l : logs.WithField("logger", "access")) {
    if (l.Field("operation") == "Comprehend_20171127.DetectSentiment") http_access.push_back(l);
  }
  ASSERT_EQ(http_access.size(), 1u);
  EXPECT_EQ(http_access[0].Field("trace_id"), trace_id);
  EXPECT_EQ(http_access[0].Field("parent_span_id"), "00f067aa0ba902b7");
  EXPECT_EQ(http_access[0].Field("status"), "200");

  std::vector<LogRecord> grpc_access = WaitForAccessLines(logs, "back", 1);
  ASSERT_EQ(grpc_access.size(), 1u);
  EXPECT_EQ(grpc_access[0].Field("trace_id"), trace_id);
  EXPECT_EQ(grpc_access[0].Field("parent_span_id"), http_access[0].Field("span_id"));
  EXPECT_EQ(back_service.Seen("from http").trace_id, trace_id);

  front->Shutdown();
  back->Shutdown();
}

}  // namespace
}  // namespace stratus
