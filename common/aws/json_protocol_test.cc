#include "common/aws/json_protocol.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/http_client.h"
#include "common/status.h"
#include "common/testing/log_capture.h"
#include "common/trace.h"

namespace stratus::aws {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr char kAkid[] = "AKIATESTTESTTESTTEST";
constexpr char kSecret[] = "0123456789012345678901234567890123456789";

// An endpoint on a real HttpServer (port 0) with Rekognition-like handlers, shared by the
// suite.
class EndpointTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    store_ = new CredentialsStore;
    registry_ = new metrics::Registry;
    ASSERT_TRUE(store_->Add({kAkid, kSecret, ""}).ok());
    AwsJsonEndpoint::Options o;
    o.credentials = store_;
    o.sigv4.service = "rekognition";
    o.metrics = registry_;
    auto ep = AwsJsonEndpoint::Create(o);
    ASSERT_TRUE(ep.ok()) << ep.status();
    endpoint_ = ep->release();
    endpoint_->Register("RekognitionService.ListCollections",
                        [](const nlohmann::json& req) -> absl::StatusOr<nlohmann::json> {
                          return nlohmann::json{{"CollectionIds", {"a", "b"}}, {"Echo", req}};
                        });
    endpoint_->Register(
        "RekognitionService.DescribeCollection",
        [](const nlohmann::json& req) -> absl::StatusOr<nlohmann::json> {
          return absl::NotFoundError(absl::StrCat(
              "The collection id: ", req.value("CollectionId", ""), " does not exist"));
        });
    endpoint_->Register("RekognitionService.DetectFaces",
                        [](const nlohmann::json& req) -> absl::StatusOr<nlohmann::json> {
                          auto bytes = Base64Decode(req["Image"].value("Bytes", ""));
                          if (!bytes.ok()) {
                            return AwsError(400, "InvalidImageFormatException",
                                            "Request has invalid image format");
                          }
                          return nlohmann::json{{"Size", bytes->size()}};
                        });
    endpoint_->Register("RekognitionService.SearchFaces",
                        [](const nlohmann::json& req) -> absl::StatusOr<nlohmann::json> {
                          // Reads with at()/get<T>() and lets nlohmann throw on bad input.
                          return nlohmann::json{{"Max", req.at("MaxFaces").get<int>()}};
                        });
    endpoint_->Register("RekognitionService.BigStack",
                        [](const nlohmann::json&) -> absl::StatusOr<nlohmann::json> {
                          // 1 MiB on the stack: more than a default small server thread has.
                          volatile char buf[1 << 20];
                          for (size_t i = 0; i < sizeof(buf); i += 4096) buf[i] = 1;
                          return nlohmann::json{{"Touched", static_cast<int>(buf[4096])}};
                        });
    endpoint_->Register("RekognitionService.CurrentTrace",
                        [](const nlohmann::json&) -> absl::StatusOr<nlohmann::json> {
                          const trace::TraceContext* t = trace::Current();
                          if (t == nullptr) return absl::InternalError("no current trace");
                          SLOG(INFO) << "in handler" << Kv("test_marker", t->span_id);
                          return nlohmann::json{{"TraceId", t->trace_id}, {"SpanId", t->span_id}};
                        });
    endpoint_->Register("RekognitionService.Throw",
                        [](const nlohmann::json&) -> absl::StatusOr<nlohmann::json> {
                          throw std::runtime_error("boom");
                        });
    HttpServer::Options ho;
    ho.address = "127.0.0.1";
    auto server = HttpServer::Create(ho);
    ASSERT_TRUE(server.ok());
    server_ = server->release();
    endpoint_->Install(server_);
    ASSERT_TRUE(server_->Start().ok());
  }
  static void TearDownTestSuite() {
    delete server_;
    delete endpoint_;
    delete registry_;
    delete store_;
  }
  void SetUp() override {
    client_.endpoint = absl::StrCat("http://127.0.0.1:", server_->port());
    client_.signing.credentials = {kAkid, kSecret, ""};
    client_.signing.service = "rekognition";
  }
  static double Count(const std::string& target, const std::string& code) {
    return metrics::BuildCounter()
        .Name("stratus_aws_requests_total")
        .Help("")
        .Register(*registry_)
        .Add({{"target", target}, {"code", code}})
        .Value();
  }

  HttpResult Call(const std::string& target, const nlohmann::json& req) {
    auto r = AwsJsonCall(client_, target, req);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : HttpResult{};
  }
  static nlohmann::json Body(const HttpResult& r) { return nlohmann::json::parse(r.body); }
  static void ExpectError(const HttpResult& r, int status, const std::string& type) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.headers.count("x-amzn-requestid"), 1u);
    EXPECT_EQ(r.headers.count("date"), 1u);
    auto ct = r.headers.find("content-type");
    ASSERT_NE(ct, r.headers.end());
    EXPECT_EQ(ct->second, "application/x-amz-json-1.1");
    auto et = r.headers.find("x-amzn-errortype");
    ASSERT_NE(et, r.headers.end());
    EXPECT_EQ(et->second, type);
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_EQ(j.value("__type", ""), type) << r.body;
    EXPECT_TRUE(j.contains("message") && j["message"].is_string()) << r.body;
  }
  std::string Url() const { return client_.endpoint + "/"; }

  static inline CredentialsStore* store_ = nullptr;
  static inline metrics::Registry* registry_ = nullptr;
  static inline AwsJsonEndpoint* endpoint_ = nullptr;
  static inline HttpServer* server_ = nullptr;
  AwsJsonClientOptions client_;
};

// A signed call to `target` sending `traceparent`.
HttpResult CallWithTraceparent(const AwsJsonClientOptions& client, const std::string& target,
                               const std::string& traceparent) {
  std::string body = "{}";
  std::string hostport = client.endpoint.substr(7);
  std::map<std::string, std::string> headers = {{"host", hostport},
                                                {"content-type", "application/x-amz-json-1.1"},
                                                {"x-amz-target", target},
                                                {"traceparent", traceparent}};
  EXPECT_TRUE(SignRequest(client.signing, "POST", "/", "", body, &headers).ok());
  headers.erase("host");
  auto r = HttpFetch("POST", client.endpoint + "/", headers, body);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : HttpResult{};
}

TEST_F(EndpointTest, RequestIdIsTheTraceIdOfTheTraceparent) {
  testing_util::LogCapture logs;
  const std::string trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  HttpResult r = CallWithTraceparent(client_, "RekognitionService.CurrentTrace",
                                     "00-" + trace_id + "-00f067aa0ba902b7-01");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["x-amzn-requestid"], trace_id);
  nlohmann::json j = Body(r);
  EXPECT_EQ(j["TraceId"], trace_id);  // current in the handler
  const std::string span = j["SpanId"];
  EXPECT_NE(span, "00f067aa0ba902b7");  // the server's own span, child of the caller's

  // The handler's own line and the access line carry the same id.
  std::vector<LogRecord> mine = logs.WithField("test_marker", span);
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].Field("trace_id"), trace_id);
  std::vector<LogRecord> access = logs.WithField("trace_id", trace_id);
  access.erase(std::remove_if(access.begin(), access.end(),
                              [](const LogRecord& l) { return l.Field("logger") != "access"; }),
               access.end());
  ASSERT_EQ(access.size(), 1u);
  EXPECT_EQ(access[0].level, LogLevel::kInfo);
  EXPECT_EQ(access[0].Field("operation"), "RekognitionService.CurrentTrace");
  EXPECT_EQ(access[0].Field("status"), "200");
  EXPECT_EQ(access[0].Field("key_id"), kAkid);
  EXPECT_EQ(access[0].Field("span_id"), span);
  EXPECT_EQ(access[0].Field("parent_span_id"), "00f067aa0ba902b7");
  EXPECT_TRUE(access[0].HasField("duration_ms"));

  // An invalid traceparent (uppercase) starts a new trace, whose id is then the request id.
  r = CallWithTraceparent(client_, "RekognitionService.CurrentTrace",
                          "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.headers["x-amzn-requestid"], MatchesRegex("[0-9a-f]{32}"));
  EXPECT_NE(r.headers["x-amzn-requestid"], trace_id);
  EXPECT_EQ(Body(r)["TraceId"], r.headers["x-amzn-requestid"]);
}

TEST(EndpointPoolTest, TheTraceGoesWithTheRequestToTheHandlerThreads) {
  AwsJsonEndpoint::Options o;
  o.require_signature = false;
  o.handler_threads = 2;
  auto ep = AwsJsonEndpoint::Create(o);
  ASSERT_TRUE(ep.ok()) << ep.status();
  (*ep)->Register("RekognitionService.CurrentTrace",
                  [](const nlohmann::json&) -> absl::StatusOr<nlohmann::json> {
                    const trace::TraceContext* t = trace::Current();
                    return nlohmann::json{{"TraceId", t != nullptr ? t->trace_id : ""}};
                  });
  HttpRequest req;
  req.method = "POST";
  req.path = "/";
  req.headers = {{"x-amz-target", "RekognitionService.CurrentTrace"},
                 {"content-type", "application/x-amz-json-1.1"}};
  trace::TraceScope scope(trace::NewTrace());
  HttpResponse r = (*ep)->HandleOnPool(req);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["TraceId"], scope.context().trace_id);
  bool found = false;
  for (const auto& [name, value] : r.headers) {
    if (name == "x-amzn-RequestId") found = value == scope.context().trace_id;
  }
  EXPECT_TRUE(found);
}

TEST_F(EndpointTest, Success) {
  double before = Count("RekognitionService.ListCollections", "ok");
  HttpResult r = Call("RekognitionService.ListCollections", {{"MaxResults", 3}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/x-amz-json-1.1");
  // The request's trace id (a new trace: no traceparent was sent).
  EXPECT_THAT(r.headers["x-amzn-requestid"], MatchesRegex("[0-9a-f]{32}"));
  nlohmann::json j = Body(r);
  EXPECT_EQ(j["CollectionIds"], nlohmann::json({"a", "b"}));
  EXPECT_EQ(j["Echo"]["MaxResults"], 3);
  EXPECT_EQ(Count("RekognitionService.ListCollections", "ok"), before + 1);
  EXPECT_THAT(registry_->Serialize(),
              HasSubstr("stratus_aws_requests_total{code=\"ok\",target=\"RekognitionService."
                        "ListCollections\"}"));
}

TEST_F(EndpointTest, UnknownTarget) {
  double before = Count("unknown", "UnknownOperationException");
  ExpectError(Call("RekognitionService.NoSuchThing", nlohmann::json::object()), 400,
              "UnknownOperationException");
  EXPECT_EQ(Count("unknown", "UnknownOperationException"), before + 1);
}

TEST_F(EndpointTest, MalformedJsonAndNonObject) {
  // Signed by hand so the body can be anything.
  for (std::string body : {std::string("{\"MaxResults\": "), std::string("[1,2]")}) {
    std::map<std::string, std::string> h = {{"host", client_.endpoint.substr(7)},
                                            {"content-type", kAmzJson11},
                                            {"x-amz-target", "RekognitionService.ListCollections"}};
    ASSERT_TRUE(SignRequest(client_.signing, "POST", "/", "", body, &h).ok());
    h.erase("host");
    auto r = HttpFetch("POST", Url(), h, body);
    ASSERT_TRUE(r.ok());
    ExpectError(*r, 400, "SerializationException");
  }
}

TEST_F(EndpointTest, WrongContentType) {
  std::string body = "{}";
  std::map<std::string, std::string> h = {{"host", client_.endpoint.substr(7)},
                                          {"content-type", "text/plain"},
                                          {"x-amz-target", "RekognitionService.ListCollections"}};
  ASSERT_TRUE(SignRequest(client_.signing, "POST", "/", "", body, &h).ok());
  h.erase("host");
  auto r = HttpFetch("POST", Url(), h, body);
  ASSERT_TRUE(r.ok());
  ExpectError(*r, 400, "SerializationException");
}

TEST_F(EndpointTest, BadSignatureUnknownKeyAndUnsigned) {
  AwsJsonClientOptions wrong = client_;
  wrong.signing.credentials.secret_access_key = "not-the-secret";
  HttpResult r = Call("RekognitionService.ListCollections", nlohmann::json::object());
  ASSERT_EQ(r.status, 200);
  auto bad = AwsJsonCall(wrong, "RekognitionService.ListCollections", nlohmann::json::object());
  ASSERT_TRUE(bad.ok());
  ExpectError(*bad, 403, "InvalidSignatureException");
  EXPECT_THAT(Body(*bad)["message"].get<std::string>(),
              HasSubstr("The request signature we calculated does not match"));

  AwsJsonClientOptions unknown = client_;
  unknown.signing.credentials.access_key_id = "AKIANOBODY";
  auto u = AwsJsonCall(unknown, "RekognitionService.ListCollections", nlohmann::json::object());
  ASSERT_TRUE(u.ok());
  ExpectError(*u, 400, "UnrecognizedClientException");

  auto none = HttpFetch(
      "POST", Url(),
      {{"content-type", kAmzJson11}, {"x-amz-target", "RekognitionService.ListCollections"}}, "{}");
  ASSERT_TRUE(none.ok());
  ExpectError(*none, 400, "MissingAuthenticationTokenException");

  AwsJsonClientOptions stale = client_;
  stale.signing.time = absl::Now() - absl::Minutes(20);
  auto s = AwsJsonCall(stale, "RekognitionService.ListCollections", nlohmann::json::object());
  ASSERT_TRUE(s.ok());
  ExpectError(*s, 400, "InvalidSignatureException");
  EXPECT_THAT(Body(*s)["message"].get<std::string>(), HasSubstr("Signature expired"));

  AwsJsonClientOptions other_service = client_;
  other_service.signing.service = "comprehend";
  auto o =
      AwsJsonCall(other_service, "RekognitionService.ListCollections", nlohmann::json::object());
  ASSERT_TRUE(o.ok());
  ExpectError(*o, 403, "InvalidSignatureException");
}

TEST_F(EndpointTest, MethodNotAllowed) {
  auto r = HttpFetch("GET", Url());
  ASSERT_TRUE(r.ok());
  ExpectError(*r, 405, "UnknownOperationException");
}

TEST_F(EndpointTest, HandlerErrorsMapToAwsShapes) {
  HttpResult nf = Call("RekognitionService.DescribeCollection", {{"CollectionId", "x"}});
  ExpectError(nf, 400, "ResourceNotFoundException");
  EXPECT_EQ(Body(nf)["message"], "The collection id: x does not exist");

  ExpectError(Call("RekognitionService.DetectFaces", {{"Image", {{"Bytes", "not base64!"}}}}), 400,
              "InvalidImageFormatException");
  HttpResult ok = Call("RekognitionService.DetectFaces", {{"Image", {{"Bytes", "aGVsbG8="}}}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Body(ok)["Size"], 5);

  HttpResult boom = Call("RekognitionService.Throw", nlohmann::json::object());
  ExpectError(boom, 500, "InternalServerError");
  EXPECT_THAT(boom.body, ::testing::Not(HasSubstr("boom")));  // no internals leak
}

TEST_F(EndpointTest, HandlersRunOnThreadsWithRealStacks) {
  HttpResult r = Call("RekognitionService.BigStack", nlohmann::json::object());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["Touched"], 1);
}

TEST_F(EndpointTest, HandlerJsonExceptionsAreBadInputNotServerFaults) {
  HttpResult ok = Call("RekognitionService.SearchFaces", {{"MaxFaces", 3}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  ExpectError(Call("RekognitionService.SearchFaces", {{"MaxFaces", "three"}}), 400,
              "SerializationException");
  ExpectError(Call("RekognitionService.SearchFaces", nlohmann::json::object()), 400,
              "SerializationException");
}

TEST_F(EndpointTest, DeeplyNestedJsonIsRefusedWithoutCrashing) {
  std::string body = std::string(200000, '[') + std::string(200000, ']');
  std::map<std::string, std::string> h = {{"host", client_.endpoint.substr(7)},
                                          {"content-type", kAmzJson11},
                                          {"x-amz-target", "RekognitionService.ListCollections"}};
  ASSERT_TRUE(SignRequest(client_.signing, "POST", "/", "", body, &h).ok());
  h.erase("host");
  auto r = HttpFetch("POST", Url(), h, body);
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectError(*r, 400, "SerializationException");
  // Up to kMaxJsonDepth levels (brackets inside strings do not count) pass; one more does not.
  auto nested = [](int levels) {
    nlohmann::json deep = "[[[{{ not structure }}]]]";
    for (int i = 0; i < levels - 1; ++i) deep = nlohmann::json{{"a", deep}};
    return deep;  // the request object adds the last level
  };
  EXPECT_EQ(Call("RekognitionService.ListCollections", {{"Deep", nested(kMaxJsonDepth)}}).status,
            200);
  ExpectError(Call("RekognitionService.ListCollections", {{"Deep", nested(kMaxJsonDepth + 1)}}),
              400, "SerializationException");
}

TEST_F(EndpointTest, ConcurrentCallsFromManyThreads) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        auto r = AwsJsonCall(client_, "RekognitionService.ListCollections", {{"I", t * 100 + i}});
        if (r.ok() && r->status == 200 &&
            nlohmann::json::parse(r->body)["Echo"]["I"] == t * 100 + i) {
          ++ok;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 200);
}

TEST_F(EndpointTest, EmptyBodyIsAnEmptyObject) {
  std::map<std::string, std::string> h = {{"host", client_.endpoint.substr(7)},
                                          {"content-type", kAmzJson11},
                                          {"x-amz-target", "RekognitionService.ListCollections"}};
  ASSERT_TRUE(SignRequest(client_.signing, "POST", "/", "", "", &h).ok());
  h.erase("host");
  auto r = HttpFetch("POST", Url(), h, "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200) << r->body;
}

TEST(AwsJsonEndpointOptions, SignatureNeedsCredentials) {
  AwsJsonEndpoint::Options o;
  EXPECT_FALSE(AwsJsonEndpoint::Create(o).ok());
  o.require_signature = false;
  auto ep = AwsJsonEndpoint::Create(o);
  ASSERT_TRUE(ep.ok());
  (*ep)->Register("X.Y", [](const nlohmann::json&) -> absl::StatusOr<nlohmann::json> {
    return absl::InvalidArgumentError("bad");
  });
  HttpRequest r;
  r.method = "POST";
  r.path = "/";
  r.headers = {{"x-amz-target", "X.Y"}, {"content-type", "application/x-amz-json-1.1"}};
  r.body = "{}";
  HttpResponse resp = (*ep)->Handle(r);
  EXPECT_EQ(resp.status, 400);
  EXPECT_EQ(nlohmann::json::parse(resp.body)["__type"], "InvalidParameterException");
}

TEST(AwsErrors, DefaultsAndExplicit) {
  auto rek = RekognitionErrorDefaults();
  auto com = ComprehendErrorDefaults();
  struct Case {
    absl::Status status;
    int rek_status;
    const char* rek_type;
    int com_status;
    const char* com_type;
  };
  for (const Case& c : std::vector<Case>{
           {absl::InvalidArgumentError("m"), 400, "InvalidParameterException", 400,
            "InvalidRequestException"},
           {absl::NotFoundError("m"), 400, "ResourceNotFoundException", 400,
            "ResourceNotFoundException"},
           {absl::AlreadyExistsError("m"), 400, "ResourceAlreadyExistsException", 400,
            "ResourceInUseException"},
           {absl::ResourceExhaustedError("m"), 500, "ThrottlingException", 400,
            "TooManyRequestsException"},
           {absl::UnavailableError("m"), 503, "ServiceUnavailableException", 503,
            "ServiceUnavailableException"},
           {absl::DeadlineExceededError("m"), 503, "ServiceUnavailableException", 503,
            "ServiceUnavailableException"},
           {absl::InternalError("m"), 500, "InternalServerError", 500, "InternalServerException"},
           {absl::PermissionDeniedError("m"), 400, "AccessDeniedException", 400,
            "AccessDeniedException"},
       }) {
    AwsErrorInfo r = ToAwsError(c.status, rek);
    EXPECT_EQ(r.http_status, c.rek_status) << c.status;
    EXPECT_EQ(r.type, c.rek_type) << c.status;
    EXPECT_EQ(r.message, "m");
    AwsErrorInfo m = ToAwsError(c.status, com);
    EXPECT_EQ(m.http_status, c.com_status) << c.status;
    EXPECT_EQ(m.type, c.com_type) << c.status;
  }
  absl::Status e = AwsError(400, "TextSizeLimitExceededException", "too long");
  EXPECT_EQ(e.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsAwsError(e, "TextSizeLimitExceededException"));
  AwsErrorInfo i = ToAwsError(e, rek);
  EXPECT_EQ(i.type, "TextSizeLimitExceededException");
  EXPECT_EQ(i.http_status, 400);
  EXPECT_EQ(i.message, "too long");
  EXPECT_EQ(AwsError(400, "ResourceNotFoundException", "").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(AwsError(400, "ResourceAlreadyExistsException", "").code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(AwsError(400, "ThrottlingException", "").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(AwsError(500, "ThrottlingException", "").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(AwsError(400, "BatchSizeLimitExceededException", "").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AwsError(400, "AccessDeniedException", "").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(AwsError(500, "InternalServerError", "").code(), absl::StatusCode::kInternal);
  EXPECT_EQ(AwsError(503, "ServiceUnavailableException", "").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(AwsError(absl::StatusCode::kOutOfRange, 400, "X", "").code(),
            absl::StatusCode::kOutOfRange);
}

// The rows the AWS SDKs retry are exactly the retryable ones: a 5xx, or a throttling name (the
// SDKs' throttling list), and the code each exception converts back to is the row's own.
TEST(AwsErrorTest, RetryableRowsAreTheOnesSdksRetry) {
  auto sdk_retries = [](const AwsErrorDefaults::Entry& e) {
    return e.http_status >= 500 || e.type == "ThrottlingException" ||
           e.type == "TooManyRequestsException" ||
           e.type == "ProvisionedThroughputExceededException";
  };
  for (const AwsErrorRow& row : AwsErrorTable()) {
    for (const auto* e : {&row.rekognition, &row.comprehend}) {
      EXPECT_EQ(sdk_retries(*e), row.retryable) << e->type;
      absl::StatusCode back = AwsError(e->http_status, e->type, "").code();
      if (row.retryable) {
        EXPECT_TRUE(back == absl::StatusCode::kUnavailable ||
                    back == absl::StatusCode::kResourceExhausted)
            << e->type;
      }
    }
  }
  // A backend outage is never a client error.
  EXPECT_GE(ToAwsError(absl::UnavailableError("down"), RekognitionErrorDefaults()).http_status,
            500);
  EXPECT_GE(ToAwsError(absl::UnavailableError("down"), ComprehendErrorDefaults()).http_status,
            500);
}

// The usage example at the top of json_protocol.h, compiled and run (with a fake core).
struct FakeCore {
  absl::StatusOr<std::vector<std::string>> DetectFaces(const std::string& bytes,
                                                       const std::vector<std::string>& attrs) {
    if (bytes.empty()) return absl::InvalidArgumentError("empty image");
    return std::vector<std::string>{absl::StrCat(bytes.size(), " bytes, ", attrs[0])};
  }
};
nlohmann::json ToJson(const std::vector<std::string>& faces) { return faces; }

absl::StatusOr<HttpResponse> UsageExample(const std::string& body) {
  namespace aws = stratus::aws;
  FakeCore core;
  aws::AwsJsonEndpoint::Options opts;
  opts.require_signature = false;
  opts.errors = aws::RekognitionErrorDefaults();
  STRATUS_ASSIGN_OR_RETURN(auto endpoint, aws::AwsJsonEndpoint::Create(opts));
  endpoint->Register(
      "RekognitionService.DetectFaces",
      [&core](const nlohmann::json& req) -> absl::StatusOr<nlohmann::json> {
        STRATUS_ASSIGN_OR_RETURN(nlohmann::json image,
                                 aws::RequiredMember<nlohmann::json>(req, "Image"));
        STRATUS_ASSIGN_OR_RETURN(std::string b64, aws::RequiredMember<std::string>(image, "Bytes"));
        absl::StatusOr<std::string> bytes = aws::Base64Decode(b64);
        if (!bytes.ok()) {
          return aws::AwsError(400, "InvalidImageFormatException", "Invalid image encoding");
        }
        STRATUS_ASSIGN_OR_RETURN(auto attrs, aws::OptionalMember<std::vector<std::string>>(
                                                 req, "Attributes", {"DEFAULT"}));
        STRATUS_ASSIGN_OR_RETURN(auto faces, core.DetectFaces(*bytes, attrs));
        return nlohmann::json{{"FaceDetails", ToJson(faces)}};
      });
  HttpRequest r;
  r.method = "POST";
  r.path = "/";
  r.headers = {{"x-amz-target", "RekognitionService.DetectFaces"},
               {"content-type", "application/x-amz-json-1.1"}};
  r.body = body;
  return endpoint->HandleOnPool(r);
}

TEST(UsageExample, BehavesAsDocumented) {
  auto ok = UsageExample(R"({"Image":{"Bytes":"aGVsbG8="}})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(nlohmann::json::parse(ok->body)["FaceDetails"][0], "5 bytes, DEFAULT");
  auto type = [](const absl::StatusOr<HttpResponse>& r) {
    return nlohmann::json::parse(r->body).value("__type", "");
  };
  EXPECT_EQ(type(UsageExample(R"({})")), "InvalidParameterException");
  EXPECT_EQ(type(UsageExample(R"({"Image":{"Bytes":5}})")), "SerializationException");
  EXPECT_EQ(type(UsageExample(R"({"Image":{"Bytes":"@@"}})")), "InvalidImageFormatException");
  EXPECT_EQ(type(UsageExample(R"({"Image":{"Bytes":""}})")), "InvalidParameterException");
  EXPECT_EQ(type(UsageExample(R"({"Image":{"Bytes":"aGVsbG8="},"Attributes":"ALL"})")),
            "SerializationException");
}

TEST(Members, RequiredAndOptional) {
  nlohmann::json j = {{"S", "x"},          {"I", 7},          {"Big", 1ll << 40},
                      {"D", 0.5},          {"B", true},       {"L", {"a", "b"}},
                      {"Mixed", {"a", 1}}, {"O", {{"k", 1}}}, {"N", nullptr}};
  EXPECT_EQ(*RequiredMember<std::string>(j, "S"), "x");
  EXPECT_EQ(*RequiredMember<int>(j, "I"), 7);
  EXPECT_EQ(*RequiredMember<int64_t>(j, "Big"), 1ll << 40);
  EXPECT_EQ(*RequiredMember<double>(j, "D"), 0.5);
  EXPECT_EQ(*RequiredMember<double>(j, "I"), 7.0);
  EXPECT_TRUE(*RequiredMember<bool>(j, "B"));
  EXPECT_EQ(*RequiredMember<std::vector<std::string>>(j, "L"),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(RequiredMember<std::vector<nlohmann::json>>(j, "Mixed")->size(), 2u);
  EXPECT_EQ((*RequiredMember<nlohmann::json>(j, "O"))["k"], 1);

  auto missing = RequiredMember<std::string>(j, "Image");
  EXPECT_TRUE(absl::IsInvalidArgument(missing.status()));
  EXPECT_EQ(missing.status().message(),
            "1 validation error detected: Value null at 'Image' failed to satisfy constraint: "
            "Member must not be null");
  EXPECT_TRUE(absl::IsInvalidArgument(RequiredMember<std::string>(j, "N").status()));
  EXPECT_EQ(ToAwsError(missing.status(), RekognitionErrorDefaults()).type,
            "InvalidParameterException");

  for (absl::Status s :
       {RequiredMember<std::string>(j, "I").status(), RequiredMember<int>(j, "S").status(),
        RequiredMember<int>(j, "D").status(), RequiredMember<int>(j, "Big").status(),
        RequiredMember<bool>(j, "I").status(),
        RequiredMember<std::vector<std::string>>(j, "Mixed").status(),
        RequiredMember<std::string>(nlohmann::json::array(), "S").status()}) {
    EXPECT_TRUE(IsAwsError(s, "SerializationException")) << s;
  }
  EXPECT_EQ(*OptionalMember<int>(j, "Absent", 100), 100);
  EXPECT_EQ(*OptionalMember<int>(j, "N", 100), 100);
  EXPECT_EQ(*OptionalMember<int>(j, "I", 100), 7);
  EXPECT_TRUE(IsAwsError(OptionalMember<int>(j, "S", 100).status(), "SerializationException"));
  EXPECT_EQ(*OptionalMember<std::vector<std::string>>(j, "Attributes", {"DEFAULT"}),
            (std::vector<std::string>{"DEFAULT"}));
}

TEST(Base64, RoundTripAndStrictness) {
  for (std::string s : {std::string(""), std::string("f"), std::string("fo"), std::string("foo"),
                        std::string("foob"), std::string("fooba"), std::string("foobar"),
                        std::string("\x00\xff\x10\x80", 4)}) {
    auto d = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(d.ok()) << s;
    EXPECT_EQ(*d, s);
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  for (const char* bad : {"Zg", "Zg=", "Z===", "Zg==Zg==", "Zm9v YmFy", "Zm9v\nYmFy",
                          "Zh==", "Zm9=", "Zm$v", "=Zm9", "Zm=v", "Zm9vYmFy===="}) {
    EXPECT_TRUE(absl::IsInvalidArgument(Base64Decode(bad).status())) << bad;
  }
}

TEST(Uuid, FormatAndUniqueness) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string u = NewUuidV4();
    EXPECT_THAT(u, MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                "[0-9a-f]{12}"));
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(HttpDate, Format) {
  EXPECT_EQ(HttpDate(absl::FromUnixSeconds(1440938160)), "Sun, 30 Aug 2015 12:36:00 GMT");
}

}  // namespace
}  // namespace stratus::aws
