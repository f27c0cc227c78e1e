#include "common/http_server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/http_client.h"
#include "common/testing/raw_client.h"

namespace stratus {
namespace {

using ::stratus::testing_util::RawClient;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }

  void Start(HttpServer::Options o) {
    o.address = "127.0.0.1";
    auto server = HttpServer::Create(o);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    server_->Handle("/echo", [this](const HttpRequest& r) {
      ++calls_;
      HttpResponse resp = HttpResponse::Text(
          200, absl::StrCat(r.method, " ", r.path, "?", r.query, " [", r.body, "] ",
                            r.Header("X-Test"), " from ", r.remote_address));
      resp.headers.emplace_back("X-Reply", "yes");
      return resp;
    });
    server_->Handle("/throw",
                    [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); });
    server_->Handle("/slow", [this](const HttpRequest&) {
      ++slow_running_;
      while (!release_slow_.HasBeenNotified()) {
        release_slow_.WaitForNotificationWithTimeout(absl::Milliseconds(10));
      }
      return HttpResponse::Text(200, "slow done");
    });
    server_->Handle("/big stack", [](const HttpRequest&) {
      volatile char buf[2 << 20];  // deeper than a default 100 KiB server thread
      for (size_t i = 0; i < sizeof(buf); i += 4096) buf[i] = 1;
      return HttpResponse::Text(200, absl::StrCat("touched ", static_cast<int>(buf[4096])));
    });
    ASSERT_TRUE(server_->Start().ok());
    hostport_ = absl::StrCat("127.0.0.1:", server_->port());
  }

  std::unique_ptr<HttpServer> server_;
  std::string hostport_;
  std::atomic<int> calls_{0};
  std::atomic<int> slow_running_{0};
  absl::Notification release_slow_;
};

TEST_F(HttpServerTest, AnswersAndKeepsTheConnectionAlive) {
  auto conn = HttpConnection::Connect(hostport_);
  ASSERT_TRUE(conn.ok()) << conn.status();
  for (int i = 0; i < 20; ++i) {
    auto r = (*conn)->Send("POST", "/echo?a=%20b", {{"X-Test", "t"}}, absl::StrCat("body", i));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, absl::StrCat("POST /echo?a=%20b [body", i, "] t from 127.0.0.1"));
    EXPECT_EQ(r->headers["x-reply"], "yes");
    EXPECT_EQ(r->headers["content-type"], "text/plain; charset=utf-8");
  }
  EXPECT_EQ((*conn)->connects(), 1);
}

TEST_F(HttpServerTest, OneShotFetchAndDecodedPath) {
  auto r = HttpFetch("GET", absl::StrCat("http://", hostport_, "/big%20stack"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "touched 1");
}

TEST_F(HttpServerTest, ServerErrors) {
  auto conn = HttpConnection::Connect(hostport_);
  ASSERT_TRUE(conn.ok());
  auto r = (*conn)->Send("GET", "/nope", {}, "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  r = (*conn)->Send("GET", "/throw", {}, "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  EXPECT_THAT(r->body, HasSubstr("boom"));
  r = (*conn)->Send("GET", "/echo", {}, "");  // still alive after both
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ((*conn)->connects(), 1);
}

TEST_F(HttpServerTest, TooLargeBodyIsRefusedBeforeTheHandler) {
  server_.reset();
  HttpServer::Options o;
  o.max_body_bytes = 100;
  Start(o);
  RawClient c(server_->port());
  ASSERT_TRUE(c.connected());
  c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n");
  EXPECT_THAT(c.ReadUntil("\r\n\r\n"), StartsWith("HTTP/1.1 413 "));
  EXPECT_TRUE(c.WaitClosed());
  // Chunked bodies are counted as they arrive.
  RawClient d(server_->port());
  d.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" +
         std::string(64, 'a') + "\r\n40\r\n" + std::string(64, 'b') + "\r\n0\r\n\r\n");
  EXPECT_THAT(d.ReadUntil("\r\n\r\n"), StartsWith("HTTP/1.1 413 "));
  EXPECT_EQ(calls_, 0);
}

TEST_F(HttpServerTest, ChunkedBodiesPipeliningAndExpectContinue) {
  RawClient c(server_->port());
  ASSERT_TRUE(c.connected());
  // Two pipelined requests in one write: a chunked one and a plain one.
  c.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nTrailer: t\r\n\r\n"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nfg");
  std::string got = c.ReadUntil("from 127.0.0.1", 2);
  EXPECT_THAT(got, HasSubstr("[abcde]"));
  EXPECT_THAT(got, HasSubstr("[fg]"));
  // Expect: 100-continue gets the interim answer before the body is sent.
  RawClient e(server_->port());
  e.Send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  EXPECT_THAT(e.ReadUntil("\r\n\r\n"), StartsWith("HTTP/1.1 100 Continue\r\n\r\n"));
  e.Send("xyz");
  EXPECT_THAT(e.ReadUntil("from 127.0.0.1"), HasSubstr("[xyz]"));
}

TEST_F(HttpServerTest, ConnectionCloseAndHttp10) {
  RawClient c(server_->port());
  c.Send("GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(c.ReadUntil("from 127.0.0.1"), HasSubstr("Connection: close\r\n"));
  EXPECT_TRUE(c.WaitClosed());
  RawClient d(server_->port());
  d.Send("GET /echo HTTP/1.0\r\n\r\n");
  EXPECT_THAT(d.ReadUntil("from 127.0.0.1"), StartsWith("HTTP/1.1 200 OK"));
  EXPECT_TRUE(d.WaitClosed());
  RawClient e(server_->port());
  e.Send("BROKEN\r\n\r\n");
  EXPECT_THAT(e.ReadUntil("\r\n\r\n"), StartsWith("HTTP/1.1 400 "));
  EXPECT_TRUE(e.WaitClosed());
}

TEST_F(HttpServerTest, ConcurrencyIsNotCappedByAPool) {
  // 40 requests held inside their handler at once, each on its own keep-alive connection.
  constexpr int kClients = 40;
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&] {
      auto conn = HttpConnection::Connect(hostport_);
      if (!conn.ok()) return;
      auto r = (*conn)->Send("GET", "/slow", {}, "");
      if (r.ok() && r->status == 200) ++ok;
    });
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (slow_running_ < kClients && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(slow_running_, kClients);
  release_slow_.Notify();
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok, kClients);
}

TEST_F(HttpServerTest, IdleConnectionsAreClosedAndStopIsPrompt) {
  server_.reset();
  HttpServer::Options o;
  o.idle_timeout = std::chrono::milliseconds(200);
  Start(o);
  RawClient idle(server_->port());
  ASSERT_TRUE(idle.connected());
  EXPECT_TRUE(idle.WaitClosed());
  // Stop() with open idle connections returns at once and closes them.
  o.idle_timeout = std::chrono::minutes(5);
  server_.reset();
  Start(o);
  RawClient a(server_->port()), b(server_->port());
  a.Send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
  a.ReadUntil("from 127.0.0.1");
  auto t0 = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  EXPECT_TRUE(a.WaitClosed());
  EXPECT_TRUE(b.WaitClosed());
}

TEST_F(HttpServerTest, ExactRoutesWinThenTheLongestPrefix) {
  server_.reset();
  auto server = HttpServer::Create({.address = "127.0.0.1"});
  ASSERT_TRUE(server.ok());
  server_ = std::move(*server);
  auto named = [](std::string name) {
    return [name](const HttpRequest& r) { return HttpResponse::Text(200, name + " " + r.path); };
  };
  server_->Handle("/api/session", named("exact"));
  server_->HandlePrefix("/", named("root"));
  server_->HandlePrefix("/api/", named("api"));
  server_->HandlePrefix("/api/rpc/", named("rpc"));
  ASSERT_TRUE(server_->Start().ok());
  const std::string base = absl::StrCat("http://127.0.0.1:", server_->port());
  auto body = [&](const std::string& path) {
    auto r = HttpFetch("GET", base + path, {}, "");
    return r.ok() ? r->body : r.status().ToString();
  };
  EXPECT_EQ(body("/api/session"), "exact /api/session");
  EXPECT_EQ(body("/api/sessions"), "api /api/sessions");
  EXPECT_EQ(body("/api/rpc/a/B"), "rpc /api/rpc/a/B");
  EXPECT_EQ(body("/api/rp"), "api /api/rp");
  EXPECT_EQ(body("/apix"), "root /apix");
  EXPECT_EQ(body("/index.html"), "root /index.html");
}

// A streamed response: head without Content-Length, pieces as they are written, the connection
// closed at the end; a client that goes away is seen by WaitUntilClosed and Write; Stop() ends
// a stream that waits.
TEST(HttpServerStreamTest, StreamsPiecesAndSeesTheClientGoAndTheServerStop) {
  HttpServer::Options o;
  o.address = "127.0.0.1";
  auto server = HttpServer::Create(o);
  ASSERT_TRUE(server.ok());
  absl::Notification second_piece, client_gone, stream_done, stream_ended;
  std::atomic<bool> write_failed{false};
  (*server)->Handle("/events", [&](const HttpRequest&) {
    return HttpResponse::EventStream([&](HttpStream& out) {
      EXPECT_TRUE(out.Write("data: one\n\n"));
      EXPECT_FALSE(out.WaitUntilClosed(std::chrono::milliseconds(50)));
      second_piece.WaitForNotification();
      EXPECT_TRUE(out.Write("data: two\n\n"));
      if (out.WaitUntilClosed(std::chrono::seconds(5))) client_gone.Notify();
      write_failed = !out.Write("data: three\n\n");
      stream_done.Notify();
    });
  });
  (*server)->Handle("/forever", [&](const HttpRequest&) {
    return HttpResponse::EventStream([&](HttpStream& out) {
      out.Write(": hello\n\n");
      while (!out.WaitUntilClosed(std::chrono::milliseconds(100))) {
      }
      stream_ended.Notify();
    });
  });
  ASSERT_TRUE((*server)->Start().ok());
  {
    RawClient c((*server)->port());
    c.Send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string got = c.ReadUntil("data: one\n\n");
    EXPECT_THAT(got, StartsWith("HTTP/1.1 200 OK\r\n"));
    EXPECT_THAT(got, HasSubstr("Content-Type: text/event-stream"));
    EXPECT_THAT(got, HasSubstr("Connection: close\r\n"));
    EXPECT_THAT(got, HasSubstr("Cache-Control: no-cache"));
    EXPECT_EQ(got.find("Content-Length"), std::string::npos);
    EXPECT_EQ(got.find("two"), std::string::npos);
    second_piece.Notify();
    EXPECT_THAT(c.ReadUntil("data: two\n\n"), HasSubstr("data: two"));
  }  // the client closes
  EXPECT_TRUE(client_gone.WaitForNotificationWithTimeout(absl::Seconds(5)));
  ASSERT_TRUE(stream_done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_TRUE(write_failed);
  RawClient waiting((*server)->port());
  waiting.Send("GET /forever HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(waiting.ReadUntil(": hello"), HasSubstr(": hello"));
  (*server)->Stop();
  EXPECT_TRUE(stream_ended.HasBeenNotified());
  EXPECT_TRUE(waiting.WaitClosed());
}

TEST_F(HttpServerTest, PortInUseIsUnavailable) {
  HttpServer::Options o;
  o.address = "127.0.0.1";
  o.port = server_->port();
  auto second = HttpServer::Create(o);
  ASSERT_TRUE(second.ok());
  absl::Status s = (*second)->Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr(absl::StrCat("127.0.0.1:", o.port)));
}

}  // namespace
}  // namespace stratus
