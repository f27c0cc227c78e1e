// Tests of common/tls.h: file checks and their messages, the local CA of `stratus up --tls`,
// and TLS sockets (handshake, verification, plain HTTP detected) over socket pairs.
#include "common/tls.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "common/testing/test_tls.h"

namespace stratus {
namespace {

using ::stratus::testing_util::MakeTestTls;
using ::stratus::testing_util::WriteTestFile;
using ::testing::HasSubstr;

std::string Slurp(const std::string& path) { return *ReadTlsFile("file", path); }

int Mode(const std::string& path) {
  struct stat st {};
  stat(path.c_str(), &st);
  return st.st_mode & 0777;
}

TEST(TlsFilesTest, AcceptsAMatchingValidPair) {
  auto t = MakeTestTls();
  EXPECT_TRUE(CheckServerFiles({.cert = t.server_cert, .key = t.server_key}).ok());
  EXPECT_TRUE(
      CheckServerFiles({.cert = t.server_cert, .key = t.server_key, .client_ca = t.ca}).ok());
  EXPECT_TRUE(CheckServerFiles({}).ok());  // plain text
  EXPECT_TRUE(CheckCaFile(t.ca).ok());
}

TEST(TlsFilesTest, ErrorsNameTheFileAndTheReason) {
  auto t = MakeTestTls();
  absl::Status s = CheckServerFiles({.cert = t.dir + "/missing.pem", .key = t.server_key});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr(t.dir + "/missing.pem: cannot read"));

  const std::string junk = WriteTestFile(t.dir + "/junk.pem", "hello, not a certificate\n");
  s = CheckServerFiles({.cert = junk, .key = t.server_key});
  EXPECT_THAT(s.message(), HasSubstr(junk + ": not a PEM certificate"));
  s = CheckServerFiles({.cert = t.server_cert, .key = junk});
  EXPECT_THAT(s.message(), HasSubstr(junk + ": not a PEM private key"));

  s = CheckServerFiles({.cert = t.server_cert, .key = t.client_key});
  EXPECT_THAT(s.message(),
              HasSubstr(t.client_key + " does not match certificate " + t.server_cert));

  s = CheckServerFiles({.cert = t.server_cert});
  EXPECT_THAT(s.message(), HasSubstr("without --tls-key"));
  s = CheckServerFiles({.client_ca = t.ca});
  EXPECT_THAT(s.message(), HasSubstr("--tls-client-ca needs --tls-cert"));
  EXPECT_THAT(CheckCaFile(junk).message(), HasSubstr("not a PEM certificate"));
}

TEST(TlsFilesTest, ExpiredAndNotYetValidCertificatesAreNamedWithTheirDate) {
  auto t = MakeTestTls();
  auto old = IssueCertificate({.common_name = "old",
                               .not_before = std::chrono::hours(-48),
                               .not_after = std::chrono::hours(-24)});
  ASSERT_TRUE(old.ok());
  const std::string cert = WriteTestFile(t.dir + "/old.pem", old->cert);
  const std::string key = WriteTestFile(t.dir + "/old.key", old->key);
  absl::Status s = CheckServerFiles({.cert = cert, .key = key});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr(cert + ": expired on 2"));
  EXPECT_THAT(s.message(), HasSubstr(" UTC"));
  EXPECT_THAT(CheckCaFile(cert).message(), HasSubstr("expired on"));

  auto future = IssueCertificate({.common_name = "future",
                                  .not_before = std::chrono::hours(24),
                                  .not_after = std::chrono::hours(48)});
  const std::string fcert = WriteTestFile(t.dir + "/future.pem", future->cert);
  const std::string fkey = WriteTestFile(t.dir + "/future.key", future->key);
  EXPECT_THAT(CheckServerFiles({.cert = fcert, .key = fkey}).message(),
              HasSubstr("not valid before"));
}

TEST(LocalCaTest, MakesPrivateFilesAndReusesThem) {
  auto t = MakeTestTls();
  const std::string dir = t.dir + "/local";
  auto first = EnsureLocalCa(dir, {"127.0.0.1"});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->created_ca);
  EXPECT_TRUE(first->created_server);
  EXPECT_EQ(first->ca_cert, dir + "/ca.pem");
  EXPECT_EQ(Mode(dir), 0700);
  for (const char* f : {"ca.pem", "ca.key", "server.pem", "server.key"}) {
    EXPECT_EQ(Mode(dir + "/" + f), 0600) << f;
  }
  EXPECT_TRUE(CheckServerFiles({.cert = first->server_cert, .key = first->server_key}).ok());
  EXPECT_TRUE(CheckCaFile(first->ca_cert).ok());
  const std::string ca = Slurp(first->ca_cert), server = Slurp(first->server_cert);

  auto again = EnsureLocalCa(dir, {"127.0.0.1"});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created_ca);
  EXPECT_FALSE(again->created_server);
  EXPECT_EQ(Slurp(again->ca_cert), ca);
  EXPECT_EQ(Slurp(again->server_cert), server);

  // A new listen address: a new server certificate from the same CA.
  auto wider = EnsureLocalCa(dir, {"10.1.2.3"});
  ASSERT_TRUE(wider.ok());
  EXPECT_FALSE(wider->created_ca);
  EXPECT_TRUE(wider->created_server);
  EXPECT_EQ(Slurp(wider->ca_cert), ca);

  // A damaged server certificate is replaced; a damaged CA replaces both.
  WriteTestFile(dir + "/server.pem", "garbage");
  auto repaired = EnsureLocalCa(dir, {"10.1.2.3"});
  ASSERT_TRUE(repaired.ok());
  EXPECT_FALSE(repaired->created_ca);
  EXPECT_TRUE(repaired->created_server);
  WriteTestFile(dir + "/ca.key", "garbage");
  auto renewed = EnsureLocalCa(dir, {"10.1.2.3"});
  ASSERT_TRUE(renewed.ok());
  EXPECT_TRUE(renewed->created_ca);
  EXPECT_TRUE(renewed->created_server);
  EXPECT_NE(Slurp(renewed->ca_cert), ca);
  EXPECT_EQ(Mode(dir + "/ca.key"), 0600);
}

// Runs a server handshake on one end of a socket pair and a client handshake on the other.
struct Handshakes {
  absl::Status server, client;
  bool plain_http = false;
  std::string echoed;  // what the client read back after sending "ping"
};

Handshakes RunHandshake(std::shared_ptr<TlsContext> server_ctx,
                        std::shared_ptr<TlsContext> client_ctx, const std::string& host) {
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  Handshakes h;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::thread server([&] {
    auto s = TlsSocket::Accept(server_ctx, fds[0], deadline, &h.plain_http);
    h.server = s.status();
    if (s.ok()) {  // echo one message
      char buf[64];
      TlsIoResult r;
      do {
        if ((*s)->Pending() == false) {
          pollfd p{fds[0], POLLIN, 0};
          poll(&p, 1, 5000);
        }
        r = (*s)->Read(buf, sizeof(buf));
      } while (r.wait != 0);
      if (r.n > 0) (*s)->Write(buf, r.n);
    }
    shutdown(fds[0], SHUT_RDWR);
  });
  auto c = TlsSocket::Connect(client_ctx, fds[1], host, deadline);
  h.client = c.status();
  if (c.ok()) {
    // Under TLS 1.3 the client finishes first: when the server then refuses it (mTLS), this
    // write or the read below fails, and nothing is echoed.
    TlsIoResult w = (*c)->Write("ping", 4);
    char buf[64];
    TlsIoResult r;
    if (w.n != 4) r.n = -1;
    while (w.n == 4) {
      pollfd p{fds[1], POLLIN, 0};
      poll(&p, 1, 5000);
      r = (*c)->Read(buf, sizeof(buf));
      if (r.wait == 0) break;
    }
    h.echoed = std::string(buf, std::max<ssize_t>(r.n, 0));
  } else {
    shutdown(fds[1], SHUT_RDWR);
  }
  server.join();
  close(fds[0]);
  close(fds[1]);
  return h;
}

TEST(TlsSocketTest, HandshakeVerifiesTheServerAndTheClient) {
  auto t = MakeTestTls();
  auto server = TlsContext::Server({.cert = t.server_cert, .key = t.server_key});
  auto client = TlsContext::Client(t.ca);
  ASSERT_TRUE(server.ok() && client.ok());
  Handshakes ok = RunHandshake(*server, *client, "127.0.0.1");
  EXPECT_TRUE(ok.server.ok()) << ok.server;
  EXPECT_TRUE(ok.client.ok()) << ok.client;
  EXPECT_EQ(ok.echoed, "ping");
  EXPECT_TRUE(RunHandshake(*server, *client, "localhost").client.ok());

  Handshakes wrong_name = RunHandshake(*server, *client, "example.com");
  EXPECT_THAT(wrong_name.client.message(), HasSubstr("certificate verify failed"));

  auto other = TlsContext::Client(t.other_ca);
  Handshakes untrusted = RunHandshake(*server, *other, "127.0.0.1");
  EXPECT_EQ(untrusted.client.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(untrusted.client.message(), HasSubstr("certificate verify failed"));

  // mTLS: without a client certificate, or with one of another CA, the handshake fails.
  auto mtls =
      TlsContext::Server({.cert = t.server_cert, .key = t.server_key, .client_ca = t.ca}, true);
  ASSERT_TRUE(mtls.ok());
  EXPECT_FALSE(RunHandshake(*mtls, *client, "127.0.0.1").server.ok());
  auto stranger = TlsContext::Client(t.ca, t.other_client_cert, t.other_client_key);
  EXPECT_FALSE(RunHandshake(*mtls, *stranger, "127.0.0.1").server.ok());
  auto member = TlsContext::Client(t.ca, t.client_cert, t.client_key);
  Handshakes both = RunHandshake(*mtls, *member, "127.0.0.1");
  EXPECT_TRUE(both.server.ok()) << both.server;
  EXPECT_TRUE(both.client.ok()) << both.client;
  EXPECT_EQ(both.echoed, "ping");
}

TEST(TlsSocketTest, PlainHttpAndGarbageFailTheHandshakeCleanly) {
  auto t = MakeTestTls();
  auto server = TlsContext::Server({.cert = t.server_cert, .key = t.server_key});
  ASSERT_TRUE(server.ok());
  for (std::string input :
       {std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        std::string("\x16\x03\x01\x00\x05garbage-garbage", 21), std::string(300, '\xff')}) {
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    ASSERT_EQ(write(fds[1], input.data(), input.size()), static_cast<ssize_t>(input.size()));
    shutdown(fds[1], SHUT_WR);
    bool plain = false;
    auto s = TlsSocket::Accept(*server, fds[0],
                               std::chrono::steady_clock::now() + std::chrono::seconds(5), &plain);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(plain, input.rfind("GET ", 0) == 0) << input;
    close(fds[0]);
    close(fds[1]);
  }
  // Nothing at all: the handshake times out.
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  auto s = TlsSocket::Accept(*server, fds[0],
                             std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
  EXPECT_THAT(s.status().message(), HasSubstr("timed out"));
  close(fds[0]);
  close(fds[1]);
}

TEST(TlsContextTest, RefusesBadFiles) {
  auto t = MakeTestTls();
  EXPECT_THAT(TlsContext::Server({.cert = t.server_cert, .key = t.client_key}).status().message(),
              HasSubstr("does not match"));
  EXPECT_THAT(TlsContext::Client(t.dir + "/none.pem").status().message(), HasSubstr("cannot read"));
}

}  // namespace
}  // namespace stratus
