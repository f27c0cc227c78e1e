// HTTPS of HttpServer and the https:// side of http_client: GET and keep-alive, bodies larger
// than a TLS record both ways, a streamed response over TLS that sees the client go, a plain
// HTTP request to the TLS port refused cleanly, malformed and silent handshakes that only close
// their connection, and an untrusted CA refused by the client.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "common/testing/eventually.h"
#include "common/testing/test_tls.h"

namespace stratus {
namespace {

using ::stratus::testing_util::Eventually;
using ::stratus::testing_util::MakeTestTls;
using ::stratus::testing_util::TestTls;
using ::testing::HasSubstr;

// Sends `bytes` on a fresh TCP connection and returns what arrives until the server closes
// (or 5 s pass; then "<open>" is appended).
std::string RawExchange(int port, const std::string& bytes) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  if (!bytes.empty()) send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    if (std::chrono::steady_clock::now() > deadline) {
      out += "<open>";
      break;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, n);
  }
  close(fd);
  return out;
}

class HttpsServerTest : public testing::Test {
 protected:
  void SetUp() override {
    tls_ = MakeTestTls();
    HttpServer::Options o;
    o.address = "127.0.0.1";
    o.tls = {.cert = tls_.server_cert, .key = tls_.server_key};
    o.tls_handshake_timeout = std::chrono::milliseconds(300);
    auto server = HttpServer::Create(o);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    server_->Handle("/hello", [](const HttpRequest& r) {
      return HttpResponse::Text(200, absl::StrCat("hello ", r.remote_address, "\n"));
    });
    server_->Handle("/echo", [](const HttpRequest& r) { return HttpResponse::Text(200, r.body); });
    server_->Handle("/events", [this](const HttpRequest&) {
      return HttpResponse::EventStream([this](HttpStream& s) {
        for (int i = 0; i < 3; ++i) s.Write(absl::StrCat("data: ", i, "\n\n"));
        if (hold_stream_) {
          while (!s.WaitUntilClosed(std::chrono::milliseconds(50))) {
          }
          stream_saw_close_ = true;
        }
      });
    });
    ASSERT_TRUE(server_->Start().ok());
    base_ = absl::StrCat("https://127.0.0.1:", server_->port());
  }

  HttpFetchOptions Trusting() const {
    return {.timeout = std::chrono::seconds(5), .ca_file = tls_.ca};
  }

  TestTls tls_;
  std::unique_ptr<HttpServer> server_;
  std::string base_;
  std::atomic<bool> hold_stream_{false};
  std::atomic<bool> stream_saw_close_{false};
};

TEST_F(HttpsServerTest, GetAndKeepAlive) {
  auto r = HttpFetch("GET", base_ + "/hello", {}, "", Trusting());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello 127.0.0.1\n");

  auto c = HttpConnection::Connect(absl::StrCat("https://127.0.0.1:", server_->port()),
                                   std::chrono::seconds(5), tls_.ca);
  ASSERT_TRUE(c.ok()) << c.status();
  for (int i = 0; i < 3; ++i) {
    auto k = (*c)->Send("GET", "/hello", {}, "");
    ASSERT_TRUE(k.ok()) << k.status();
    EXPECT_EQ(k->status, 200);
  }
  EXPECT_EQ((*c)->connects(), 1);
  // Bodies of several TLS records each way.
  std::string big(1 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 997) big[i] = static_cast<char>('a' + i % 26);
  auto e = (*c)->Send("POST", "/echo", {}, big);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->body, big);
  EXPECT_EQ((*c)->connects(), 1);
}

TEST_F(HttpsServerTest, CaFromTheEnvironmentAndUntrustedCas) {
  setenv("STRATUS_TLS_CA", tls_.ca.c_str(), 1);
  auto r = HttpFetch("GET", base_ + "/hello");
  unsetenv("STRATUS_TLS_CA");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);

  auto other =
      HttpFetch("GET", base_ + "/hello", {}, "",
                HttpFetchOptions{.timeout = std::chrono::seconds(5), .ca_file = tls_.other_ca});
  EXPECT_EQ(other.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(other.status().message(), HasSubstr("certificate verify failed"));
  auto name = HttpFetch("GET", absl::StrCat("https://127.0.0.2:", server_->port(), "/hello"), {},
                        "", Trusting());
  EXPECT_FALSE(name.ok());  // 127.0.0.2 is not in the certificate
}

TEST_F(HttpsServerTest, StreamedResponseOverTls) {
  auto r = HttpFetch("GET", base_ + "/events", {}, "", Trusting());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->headers["content-type"], "text/event-stream; charset=utf-8");
  EXPECT_EQ(r->body, "data: 0\n\ndata: 1\n\ndata: 2\n\n");

  // A stream that waits for its client sees it leave.
  hold_stream_ = true;
  {
    auto c = HttpConnection::Connect(absl::StrCat("https://127.0.0.1:", server_->port()),
                                     std::chrono::seconds(5), tls_.ca);
    ASSERT_TRUE(c.ok());
    std::thread reader(
        [&] { (void)(*c)->Send("GET", "/events", {}, "", std::chrono::seconds(1)); });
    reader.join();  // times out reading the endless body, then closes the connection
  }
  EXPECT_TRUE(Eventually([&] { return stream_saw_close_.load(); }));
}

TEST_F(HttpsServerTest, PlainHttpToTheTlsPortIsRefusedCleanly) {
  auto plain = HttpFetch("GET", absl::StrCat("http://127.0.0.1:", server_->port(), "/hello"), {},
                         "", std::chrono::seconds(5));
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->status, 400);
  EXPECT_THAT(plain->body, HasSubstr("use https://"));
  auto r = HttpFetch("GET", base_ + "/hello", {}, "", Trusting());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpsServerTest, MalformedAndSilentHandshakesOnlyCloseTheirConnection) {
  const std::string garbage[] = {
      std::string("\x16\x03\x01\x00\x10", 5) + std::string(16, '\x01'),  // a broken ClientHello
      std::string(5000, '\xff'),
      std::string("\x16\x03\x01\xff\xff", 5),  // a record that never arrives in full
      "",                                      // nothing at all: the handshake times out
  };
  for (const std::string& g : garbage) {
    std::string got = RawExchange(server_->port(), g);
    EXPECT_THAT(got, testing::Not(HasSubstr("<open>")));
    EXPECT_THAT(got, testing::Not(HasSubstr("HTTP/1.1")));
  }
  auto r = HttpFetch("GET", base_ + "/hello", {}, "", Trusting());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
}

TEST(HttpsServerCreateTest, BadFilesAreClearErrors) {
  TestTls t = MakeTestTls();
  HttpServer::Options o;
  o.tls = {.cert = t.server_cert, .key = t.client_key};
  auto s = HttpServer::Create(o);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(), HasSubstr("does not match certificate"));
  o.tls = {.cert = t.dir + "/none.pem", .key = t.server_key};
  EXPECT_THAT(HttpServer::Create(o).status().message(), HasSubstr("none.pem: cannot read"));
}

}  // namespace
}  // namespace stratus
