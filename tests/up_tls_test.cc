// `stratus up --tls` end to end: PostgreSQL and stratus-ingest in a private network namespace
// (up uses the fixed default ports, which another stack on this machine may hold). It makes
// the local CA and certificate (files 0600), prints https:// URLs and how to trust the CA,
// serves gRPC over TLS that the stratus tool reaches through the data dir's CA (and not while
// trusting another CA), serves HTTPS on the HTTP port (plain HTTP refused), reuses the CA on
// the next start, and stops cleanly. Needs root (unshare -n); skipped otherwise.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/http_client.h"
#include "common/subprocess.h"
#include "common/testing/eventually.h"
#include "common/testing/test_tls.h"

namespace stratus {
namespace {

namespace fs = std::filesystem;
using ::stratus::testing_util::Eventually;
using ::testing::HasSubstr;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Runs `f` on a thread that has joined the network namespace of process `pid`.
template <typename F>
void InNetworkOf(pid_t pid, F f) {
  std::thread t([&] {
    int fd = open(absl::StrCat("/proc/", pid, "/ns/net").c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(setns(fd, CLONE_NEWNET), 0);
    close(fd);
    f();
  });
  t.join();
}

class UpTlsTest : public testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("STRATUS_BINARY_DIR");
    ASSERT_NE(bin, nullptr) << "run through ctest";
    bin_ = absl::StrCat(bin, "/bin");
    auto probe = RunCommand({.argv = {"unshare", "-n", "true"}});
    if (geteuid() != 0 || !probe.ok() || *probe != 0) {
      GTEST_SKIP() << "needs root for a private network namespace (unshare -n)";
    }
    dir_ = fs::temp_directory_path() / absl::StrCat("stratus-up-tls-", getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    up_.reset();
    if (!HasFailure() && !dir_.empty()) fs::remove_all(dir_);
  }

  // Starts `stratus up --tls --service ingest` and waits for "ready".
  void StartUp(const std::string& log) {
    log_ = (dir_ / log).string();
    auto p = Subprocess::Spawn(
        {.argv = {"unshare", "-n", "sh", "-c",
                  absl::StrCat("ip link set lo up && exec ", bin_,
                               "/stratus up --tls --service ingest --ready-timeout 120 "
                               "--data-dir ",
                               (dir_ / "var").string())},
         .env = {{"STRATUS_TLS_CA", ""}},
         .log_file = log_});
    ASSERT_TRUE(p.ok()) << p.status();
    up_ = std::move(*p);
    ASSERT_TRUE(Eventually([&] { return Slurp(log_).find("\nready\n") != std::string::npos; },
                           std::chrono::seconds(150), std::chrono::milliseconds(200)))
        << Slurp(log_);
  }

  // Runs the stratus tool in up's network namespace with `env`; its exit code and output.
  std::pair<int, std::string> Stratus(const std::vector<std::string>& args,
                                      std::map<std::string, std::string> env) {
    std::vector<std::string> argv = {"nsenter", absl::StrCat("--net=/proc/", up_->pid(), "/ns/net"),
                                     bin_ + "/stratus"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out;
    auto code = RunCommand({.argv = argv, .env = env}, &out);
    return {code.ok() ? *code : -1, out};
  }

  std::string bin_;
  fs::path dir_;
  std::string log_;
  std::unique_ptr<Subprocess> up_;
};

TEST_F(UpTlsTest, EveryEndpointOverTlsWithALocalCa) {
  ASSERT_NO_FATAL_FAILURE(StartUp("up1.log"));
  const std::string var = (dir_ / "var").string();
  const std::string ca = var + "/tls/ca.pem";
  const std::string out = Slurp(log_);
  EXPECT_THAT(out, HasSubstr("made a local CA: " + ca));
  EXPECT_THAT(out, HasSubstr("ingest grpc=127.0.0.1:50051 http=https://127.0.0.1:8081\n"));
  EXPECT_THAT(out, HasSubstr("STRATUS_TLS_CA=" + ca));
  EXPECT_THAT(out, HasSubstr("AWS_CA_BUNDLE=" + ca));
  EXPECT_THAT(out, HasSubstr("NODE_EXTRA_CA_CERTS=" + ca));
  EXPECT_THAT(out, HasSubstr("endpoint https://127.0.0.1:8083"));
  for (const char* f : {"ca.pem", "ca.key", "server.pem", "server.key"}) {
    struct stat st {};
    ASSERT_EQ(stat((var + "/tls/" + f).c_str(), &st), 0) << f;
    EXPECT_EQ(st.st_mode & 0777, 0600) << f;
  }

  // gRPC with the API key and the CA found through the data dir; another CA is refused.
  auto [code, text] = Stratus({"stream", "ls"}, {{"STRATUS_DATA_DIR", var}});
  EXPECT_EQ(code, 0) << text;
  auto [health_code, health] = Stratus({"health", "127.0.0.1:50051"}, {{"STRATUS_DATA_DIR", var}});
  EXPECT_EQ(health_code, 0) << health;
  EXPECT_THAT(health, HasSubstr("SERVING"));
  testing_util::TestTls other = testing_util::MakeTestTls();
  auto [other_code, other_text] =
      Stratus({"stream", "ls"}, {{"STRATUS_DATA_DIR", var}, {"STRATUS_TLS_CA", other.ca}});
  EXPECT_NE(other_code, 0) << other_text;

  // HTTPS on the HTTP port; plain HTTP refused.
  InNetworkOf(up_->pid(), [&] {
    auto r = HttpFetch("GET", "https://127.0.0.1:8081/readyz", {}, "",
                       HttpFetchOptions{.timeout = std::chrono::seconds(5), .ca_file = ca});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 200);
    auto plain = HttpFetch("GET", "http://127.0.0.1:8081/readyz", {}, "", std::chrono::seconds(5));
    ASSERT_TRUE(plain.ok()) << plain.status();
    EXPECT_EQ(plain->status, 400);
  });
  EXPECT_EQ(up_->Stop(std::chrono::seconds(60)), 0) << Slurp(log_);

  // The next start reuses the CA and the certificate.
  const std::string ca_pem = Slurp(ca), server_pem = Slurp(var + "/tls/server.pem");
  ASSERT_NO_FATAL_FAILURE(StartUp("up2.log"));
  EXPECT_THAT(Slurp(log_), testing::Not(HasSubstr("made a local CA")));
  EXPECT_EQ(Slurp(ca), ca_pem);
  EXPECT_EQ(Slurp(var + "/tls/server.pem"), server_pem);
  EXPECT_EQ(up_->Stop(std::chrono::seconds(60)), 0) << Slurp(log_);
}

}  // namespace
}  // namespace stratus
