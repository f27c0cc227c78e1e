// The console's API against a real gRPC service (an in-process IngestService behind a
// ServiceHost with API keys) over real HTTP: sessions, CSRF, the bridge with the keys' scopes,
// errors with their reasons, the login link, server-sent events and static files.
#include "services/console/console_api.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/auth/testing/test_keys.h"
#include "common/http_client.h"
#include "common/service_host.h"
#include "common/status.h"
#include "common/testing/raw_client.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "nlohmann/json.hpp"
#include "stratus/v1/ingest.grpc.pb.h"

namespace stratus::console {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
using ::stratus::testing_util::RawClient;
namespace fs = std::filesystem;

// A stand-in ingest: fixed streams, a validation error with ErrorInfo metadata, events that
// echo after_id, one frame.
class FakeIngest final : public v1::IngestService::Service {
 public:
  grpc::Status ListStreams(grpc::ServerContext*, const v1::ListStreamsRequest*,
                           v1::ListStreamsResponse* r) override {
    auto* s = r->add_streams();
    s->mutable_config()->set_name("cam1");
    s->set_state(v1::StreamStatus::RUNNING);
    return grpc::Status::OK;
  }
  grpc::Status AddStream(grpc::ServerContext*, const v1::AddStreamRequest* req,
                         v1::AddStreamResponse* r) override {
    if (!absl::StartsWith(req->config().uri(), "rtsp://")) {
      google::rpc::ErrorInfo info;
      info.set_reason("UNSUPPORTED_URI");
      info.set_domain("stratus");
      (*info.mutable_metadata())["field"] = "config.uri";
      google::rpc::Status details;
      details.set_code(3);
      details.set_message("uri: unsupported scheme");
      details.add_details()->PackFrom(info);
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "uri: unsupported scheme",
                          details.SerializeAsString());
    }
    *r->mutable_status()->mutable_config() = req->config();
    return grpc::Status::OK;
  }
  grpc::Status WatchEvents(grpc::ServerContext* ctx, const v1::WatchEventsRequest* req,
                           grpc::ServerWriter<v1::Event>* w) override {
    for (int i = 1; i <= 2; ++i) {
      v1::Event e;
      e.set_id(req->after_id() + i);
      e.set_stream(req->streams_size() > 0 ? req->streams(0) : "any");
      e.set_type(v1::Event::PERSON_APPEARED);
      w->Write(e);
    }
    while (!ctx->IsCancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    watchers_ended++;
    return grpc::Status::CANCELLED;
  }
  grpc::Status GetStreamFrame(grpc::ServerContext*, const v1::GetStreamFrameRequest* req,
                              v1::GetStreamFrameResponse* r) override {
    if (req->stream() != "cam1") return grpc::Status(grpc::StatusCode::NOT_FOUND, "no stream");
    r->set_stream("cam1");
    r->set_sequence(7);
    r->set_width(64);
    r->set_height(48);
    r->set_jpeg("\xff\xd8jpeg");
    auto* d = r->add_detections();
    d->set_label("person");
    d->set_confidence(0.75f);
    d->mutable_box()->set_left(0.25f);
    d->set_track_id(3);
    return grpc::Status::OK;
  }
  grpc::Status GetSnapshot(grpc::ServerContext*, const v1::GetSnapshotRequest* req,
                           v1::GetSnapshotResponse* r) override {
    if (req->snapshot_ref() != "file:///snaps/a.jpg") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "snapshot gone");
    }
    r->set_jpeg("\xff\xd8snap");
    return grpc::Status::OK;
  }
  std::atomic<int> watchers_ended{0};
};

class ConsoleApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_ = auth::testing::TestKeyStore();
    ServiceHost::Options ho;
    ho.service_name = "ingest";
    ho.grpc_address = ho.http_address = "127.0.0.1";
    ho.http_port = -1;
    ho.api_keys = keys_;
    auto host = ServiceHost::Create(ho);
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = std::move(*host);
    host_->AddService(&ingest_, "stratus.v1.IngestService");
    ASSERT_TRUE(host_->Start().ok());
    const std::string target = absl::StrCat("127.0.0.1:", host_->grpc_port());
    channel_ = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
    bridge_ = std::make_unique<RpcBridge>(
        RpcBridge::Options{.channels = {{"stratus.v1.IngestService", channel_},
                                        {"stratus.v1.RecognitionService", channel_}}});
    sessions_ = std::make_unique<SessionStore>(
        SessionStore::Options{.keys = keys_.get(),
                              .login_token = "one-time-token",
                              .login_key = auth::testing::kAdminKey});
    web_ = fs::temp_directory_path() / absl::StrCat("console-web-", getpid());
    fs::create_directories(web_ / "assets");
    std::ofstream(web_ / "index.html") << "<!doctype html><title>console</title>";
    std::ofstream(web_ / "assets" / "app-1234.js") << "console.log(1)";
    HttpServer::Options so;
    so.address = "127.0.0.1";
    auto http = HttpServer::Create(so);
    ASSERT_TRUE(http.ok());
    http_ = std::move(*http);
    RegisterConsoleApi(http_.get(), {.sessions = sessions_.get(),
                                     .keys = keys_.get(),
                                     .bridge = bridge_.get(),
                                     .ingest = channel_,
                                     .services = {{"ingest", target}},
                                     .web_dir = web_.string(),
                                     .ping_interval = std::chrono::milliseconds(300)});
    ASSERT_TRUE(http_->Start().ok());
    base_ = absl::StrCat("http://127.0.0.1:", http_->port());
  }
  void TearDown() override {
    http_->Stop();
    host_->Shutdown();
    fs::remove_all(web_);
  }

  HttpResult Fetch(const std::string& method, const std::string& path,
                   std::map<std::string, std::string> headers = {}, const std::string& body = "") {
    auto r = HttpFetch(method, base_ + path, headers, body, std::chrono::seconds(10));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : HttpResult{};
  }
  // Logs in with `key`; returns the cookie header value and the CSRF token.
  std::pair<std::string, std::string> LogIn(const std::string& key) {
    HttpResult r = Fetch("POST", "/api/session", {}, json{{"apiKey", key}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    const std::string set_cookie = r.headers["set-cookie"];
    EXPECT_THAT(set_cookie, HasSubstr("HttpOnly"));
    EXPECT_THAT(set_cookie, HasSubstr("SameSite=Strict"));
    return {set_cookie.substr(0, set_cookie.find(';')), json::parse(r.body)["csrfToken"]};
  }
  static std::string Code(const HttpResult& r) {
    json j = json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"]["code"].get<std::string>() : "";
  }
  static std::string Reason(const HttpResult& r) {
    json j = json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"]["reason"].get<std::string>() : "";
  }

  FakeIngest ingest_;
  std::shared_ptr<auth::KeyStore> keys_;
  std::unique_ptr<ServiceHost> host_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<RpcBridge> bridge_;
  std::unique_ptr<SessionStore> sessions_;
  std::unique_ptr<HttpServer> http_;
  fs::path web_;
  std::string base_;
};

const char kListStreams[] = "/api/rpc/stratus.v1.IngestService/ListStreams";
const char kAddStream[] = "/api/rpc/stratus.v1.IngestService/AddStream";

TEST_F(ConsoleApiTest, RefusesCallsWithoutASessionOrAValidKey) {
  for (const char* path : {"/api/session", "/api/services", "/api/live/events", "/api/cost"}) {
    HttpResult r = Fetch("GET", path);
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_EQ(Code(r), "UNAUTHENTICATED") << path;
  }
  EXPECT_EQ(Fetch("POST", kListStreams, {}, "{}").status, 401);
  EXPECT_EQ(Fetch("POST", kListStreams, {{"Cookie", "stratus_session=forged"}}, "{}").status, 401);
  HttpResult bad = Fetch("POST", "/api/session", {}, json{{"apiKey", "stk_nope"}}.dump());
  EXPECT_EQ(bad.status, 401);
  EXPECT_THAT(bad.body, HasSubstr("malformed API key"));
  EXPECT_EQ(Fetch("POST", "/api/session", {}, "not json").status, 400);
  EXPECT_EQ(Fetch("POST", kListStreams, {{"Authorization", "Basic abc"}}, "{}").status, 401);
}

TEST_F(ConsoleApiTest, StateChangesNeedTheSessionsCsrfToken) {
  auto [cookie, csrf] = LogIn(auth::testing::kAdminKey);
  HttpResult missing = Fetch("POST", kListStreams, {{"Cookie", cookie}}, "{}");
  EXPECT_EQ(missing.status, 403);
  EXPECT_EQ(Reason(missing), "CSRF_TOKEN_MISSING");
  HttpResult wrong = Fetch("POST", kListStreams, {{"Cookie", cookie}, {"X-CSRF-Token", "x"}}, "{}");
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(Reason(wrong), "CSRF_TOKEN_MISMATCH");
  HttpResult ok = Fetch("POST", kListStreams, {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}, "{}");
  ASSERT_EQ(ok.status, 200) << ok.body;
  json streams = json::parse(ok.body)["streams"];
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_EQ(streams[0]["config"]["name"], "cam1");
  EXPECT_EQ(streams[0]["state"], "RUNNING");
  EXPECT_EQ(streams[0]["framesDropped"], "0");  // defaults printed, int64 as a string
  // Reads need no token; logging out does, and ends the session.
  EXPECT_EQ(Fetch("GET", "/api/session", {{"Cookie", cookie}}).status, 200);
  EXPECT_EQ(Fetch("DELETE", "/api/session", {{"Cookie", cookie}}).status, 403);
  EXPECT_EQ(Fetch("DELETE", "/api/session", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}).status,
            204);
  EXPECT_EQ(Fetch("GET", "/api/session", {{"Cookie", cookie}}).status, 401);
}

TEST_F(ConsoleApiTest, CallsCarryTheSessionsKeyAndItsScopes) {
  auto [read_cookie, read_csrf] = LogIn(auth::testing::kReadKey);
  HttpResult denied =
      Fetch("POST", kAddStream, {{"Cookie", read_cookie}, {"X-CSRF-Token", read_csrf}},
            R"({"config":{"name":"cam2","uri":"rtsp://cam/2"}})");
  EXPECT_EQ(denied.status, 403) << denied.body;
  EXPECT_EQ(Code(denied), "PERMISSION_DENIED");
  auto [cookie, csrf] = LogIn(auth::testing::kAdminKey);
  const std::map<std::string, std::string> h = {{"Cookie", cookie}, {"X-CSRF-Token", csrf}};
  HttpResult added = Fetch("POST", kAddStream, h,
                           R"({"config":{"name":"cam2","uri":"rtsp://cam/2","sampleFps":5}})");
  ASSERT_EQ(added.status, 200) << added.body;
  EXPECT_EQ(json::parse(added.body)["status"]["config"]["sampleFps"], 5);
  // The service's error, its reason and the offending field come through.
  HttpResult invalid =
      Fetch("POST", kAddStream, h, R"({"config":{"name":"c","uri":"gopher://x"}})");
  EXPECT_EQ(invalid.status, 400);
  json e = json::parse(invalid.body)["error"];
  EXPECT_EQ(e["code"], "INVALID_ARGUMENT");
  EXPECT_EQ(e["reason"], "UNSUPPORTED_URI");
  EXPECT_EQ(e["metadata"]["field"], "config.uri");
  EXPECT_THAT(e["message"].get<std::string>(), HasSubstr("unsupported scheme"));
  // Requests that do not fit: unknown fields, methods, services, streaming methods.
  HttpResult unknown_field = Fetch("POST", kAddStream, h, R"({"config":{"nam":"c"}})");
  EXPECT_EQ(unknown_field.status, 400);
  EXPECT_THAT(unknown_field.body, HasSubstr("stratus.v1.AddStreamRequest"));
  EXPECT_EQ(Fetch("POST", "/api/rpc/stratus.v1.IngestService/Nope", h, "{}").status, 404);
  EXPECT_EQ(Fetch("POST", "/api/rpc/stratus.v1.DetectorService/ListModels", h, "{}").status, 404);
  EXPECT_EQ(Fetch("POST", "/api/rpc/stratus.v1.IngestService/WatchEvents", h, "{}").status, 404);
  // Every service's messages are known to the bridge, even those nothing else here links:
  // the call reaches the server (which does not serve recognition: UNIMPLEMENTED).
  HttpResult recognition = Fetch("POST", "/api/rpc/stratus.v1.RecognitionService/ListCollections",
                                 h, R"({"MaxResults":10})");
  EXPECT_EQ(recognition.status, 501) << recognition.body;
  EXPECT_EQ(Code(recognition), "UNIMPLEMENTED");
  // Scripts may use the key itself instead of a session (no CSRF: browsers never send it).
  HttpResult bearer =
      Fetch("POST", kListStreams,
            {{"Authorization", absl::StrCat("Bearer ", auth::testing::kReadKey)}}, "{}");
  EXPECT_EQ(bearer.status, 200) << bearer.body;
}

TEST_F(ConsoleApiTest, TheLoginLinkWorksOnce) {
  HttpResult wrong = Fetch("GET", "/login?token=guess");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_THAT(wrong.body, HasSubstr("not valid"));
  HttpResult first = Fetch("GET", "/login?token=one-time-token");
  EXPECT_EQ(first.status, 303);
  EXPECT_EQ(first.headers["location"], "/");
  const std::string cookie = first.headers["set-cookie"];
  EXPECT_THAT(cookie, HasSubstr("HttpOnly"));
  HttpResult session =
      Fetch("GET", "/api/session", {{"Cookie", cookie.substr(0, cookie.find(';'))}});
  ASSERT_EQ(session.status, 200);
  EXPECT_EQ(json::parse(session.body)["scopes"][0]["level"], "ADMIN");
  HttpResult again = Fetch("GET", "/login?token=one-time-token");
  EXPECT_EQ(again.status, 401);
  EXPECT_THAT(again.body, HasSubstr("used already"));
}

TEST_F(ConsoleApiTest, LiveEventsRelayWatchEventsAndEndWhenTheBrowserGoes) {
  auto [cookie, csrf] = LogIn(auth::testing::kReadKey);
  {
    RawClient c(http_->port());
    c.Send(absl::StrCat(
        "GET /api/live/events?streams=cam1&afterId=5 HTTP/1.1\r\nHost: x\r\nCookie: ", cookie,
        "\r\nLast-Event-ID: 40\r\n\r\n"));
    std::string got = c.ReadUntil("id: 42\n");
    EXPECT_THAT(got, HasSubstr("Content-Type: text/event-stream"));
    EXPECT_THAT(got, HasSubstr("id: 41\nevent: event\ndata: {"));
    EXPECT_THAT(got, HasSubstr("\"stream\":\"cam1\""));
    EXPECT_THAT(got, HasSubstr("\"type\":\"PERSON_APPEARED\""));
    EXPECT_THAT(c.ReadUntil(": ping"), HasSubstr(": ping\n\n"));
  }
  for (int i = 0; i < 100 && ingest_.watchers_ended == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(ingest_.watchers_ended, 1);  // the gRPC call was cancelled
  EXPECT_EQ(Fetch("GET", "/api/live/events?types=NOPE", {{"Cookie", cookie}}).status, 400);
}

TEST_F(ConsoleApiTest, LiveFramesAndSnapshots) {
  auto [cookie, csrf] = LogIn(auth::testing::kReadKey);
  RawClient c(http_->port());
  c.Send(absl::StrCat("GET /api/live/frames?stream=cam1&maxFps=2 HTTP/1.1\r\nHost: x\r\nCookie: ",
                      cookie, "\r\n\r\n"));
  std::string got = c.ReadUntil("\"trackId\"");
  EXPECT_THAT(got, HasSubstr("event: frame\ndata: {"));
  EXPECT_THAT(got, HasSubstr("\"sequence\":\"7\""));
  EXPECT_THAT(got, HasSubstr("\"label\":\"person\""));
  EXPECT_THAT(got, HasSubstr("\"Left\":0.25"));
  EXPECT_THAT(got, HasSubstr("\"jpeg\":\"/9hqcGVn\""));  // base64 of FF D8 "jpeg"
  RawClient unknown(http_->port());
  unknown.Send(absl::StrCat(
      "GET /api/live/frames?stream=nope HTTP/1.1\r\nHost: x\r\nCookie: ", cookie, "\r\n\r\n"));
  EXPECT_THAT(unknown.ReadUntil("NOT_FOUND"),
              HasSubstr("event: error\ndata: {\"code\":\"NOT_FOUND\""));
  HttpResult snap =
      Fetch("GET", "/api/snapshot?ref=file%3A%2F%2F%2Fsnaps%2Fa.jpg", {{"Cookie", cookie}});
  EXPECT_EQ(snap.status, 200);
  EXPECT_EQ(snap.headers["content-type"], "image/jpeg");
  EXPECT_EQ(snap.body, "\xff\xd8snap");
  EXPECT_EQ(Fetch("GET", "/api/snapshot?ref=file%3A%2F%2F%2Fgone.jpg", {{"Cookie", cookie}}).status,
            404);
}

TEST_F(ConsoleApiTest, ServesTheFrontEndWithClientRoutingAndSecurityHeaders) {
  HttpResult index = Fetch("GET", "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_THAT(index.body, HasSubstr("<title>console</title>"));
  EXPECT_EQ(index.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_THAT(index.headers["content-security-policy"], HasSubstr("default-src 'self'"));
  EXPECT_EQ(index.headers["x-frame-options"], "DENY");
  EXPECT_EQ(Fetch("GET", "/streams").body, index.body);  // client-side route
  HttpResult js = Fetch("GET", "/assets/app-1234.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.headers["content-type"], "text/javascript; charset=utf-8");
  EXPECT_THAT(js.headers["cache-control"], HasSubstr("immutable"));
  EXPECT_EQ(Fetch("GET", "/assets/missing.js").status, 404);
  EXPECT_EQ(Fetch("GET", "/%2e%2e/%2e%2e/etc/passwd.txt").status, 404);
  EXPECT_EQ(Fetch("GET", "/api/nothing").status, 404);
  EXPECT_EQ(Code(Fetch("GET", "/api/nothing")), "NOT_FOUND");
}

TEST_F(ConsoleApiTest, ServicesReportTheirHealth) {
  auto [cookie, csrf] = LogIn(auth::testing::kReadKey);
  HttpResult r = Fetch("GET", "/api/services", {{"Cookie", cookie}});
  ASSERT_EQ(r.status, 200);
  json s = json::parse(r.body)["services"];
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0]["name"], "ingest");
  for (int i = 0; i < 50 && s[0]["status"] != "SERVING";
       ++i) {  // readiness is evaluated each second
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    s = json::parse(Fetch("GET", "/api/services", {{"Cookie", cookie}}).body)["services"];
  }
  EXPECT_EQ(s[0]["status"], "SERVING");
}

TEST(HttpStatusOfTest, FollowsTheContract) {
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kFailedPrecondition), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kInternal), 500);
}

}  // namespace
}  // namespace stratus::console
