// The foundation end to end: a real PostgreSQL and the five service binaries on loopback ports
// chosen at run time. Every service becomes SERVING, serves Prometheus metrics that promtool
// accepts, survives the loss of PostgreSQL (alive, not ready) and recovers, and drains on SIGTERM.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/testing/eventually.h"
#include "common/embedded_postgres.h"
#include "common/health_client.h"
#include "common/http_client.h"
#include "common/subprocess.h"

namespace stratus {
namespace {

using ::stratus::testing_util::Eventually;

namespace fs = std::filesystem;

struct Service {
  std::string name;
  bool uses_database;
  int grpc_port = 0;
  int http_port = 0;
  int launches = 0;
  std::unique_ptr<Subprocess> process;
  std::string grpc() const { return absl::StrCat("127.0.0.1:", grpc_port); }
};

ServingStatus Health(const Service& s, const std::string& name = "") {
  auto r = CheckHealth(s.grpc(), name, std::chrono::seconds(2));
  return r.ok() ? *r : ServingStatus::kUnknown;
}

class PlatformTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / absl::StrCat("stratus-platform-", getpid());
    fs::create_directories(dir_);
    auto pg = EmbeddedPostgres::Start({.data_dir = (dir_ / "pg").string()});
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_ = std::move(*pg);
    const char* bin = std::getenv("STRATUS_BINARY_DIR");
    ASSERT_NE(bin, nullptr) << "run through ctest";
    for (auto [name, db] : std::vector<std::pair<std::string, bool>>{
             {"ingest", true}, {"detector", false}, {"recognition", true}, {"mask", false},
             {"sentiment", true}}) {
      services_.emplace_back();
      services_.back().name = name;
      services_.back().uses_database = db;
    }
    for (auto& s : services_) Launch(s);
  }

  // Starts `s` on two ports that were free a moment ago (another test may take one first: see
  // RelaunchIfPortTaken).
  void Launch(Service& s) {
    s.process.reset();
    ++s.launches;
    s.grpc_port = *PickFreePort();
    s.http_port = *PickFreePort();
    auto p = Subprocess::Spawn(
        {.argv = {absl::StrCat(std::getenv("STRATUS_BINARY_DIR"), "/bin/stratus-", s.name)},
         .env = {{"STRATUS_GRPC_PORT", std::to_string(s.grpc_port)},
                 {"STRATUS_HTTP_PORT", std::to_string(s.http_port)},
                 {"STRATUS_LISTEN", "127.0.0.1"},
                 {"STRATUS_DATABASE_URL", pg_->url()},
                 {"STRATUS_SPOOL_DIR", (dir_ / "spool").string()},
                 {"STRATUS_DRAIN_MS", "2000"}},
         .log_file = (dir_ / absl::StrCat(s.name, "-", s.launches, ".log")).string()});
    ASSERT_TRUE(p.ok()) << p.status();
    s.process = std::move(*p);
  }

  // A service that exited because a concurrent test bound one of its ports between
  // PickFreePort and the service's bind is started again on other ports (twice at most).
  void RelaunchIfPortTaken(Service& s) {
    if (s.launches < 3 && s.process != nullptr && !s.process->Running() &&
        absl::StrContains(Log(s), "Address already in use")) {
      Launch(s);
    }
  }

  void TearDown() override {
    for (auto& s : services_) s.process.reset();
    pg_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  std::string Log(const Service& s) {
    std::ifstream in(dir_ / absl::StrCat(s.name, "-", s.launches, ".log"));
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  fs::path dir_;
  std::unique_ptr<EmbeddedPostgres> pg_;
  std::vector<Service> services_;
};

TEST_F(PlatformTest, ServicesServeSurviveDatabaseLossAndDrain) {
  for (auto& s : services_) {
    EXPECT_TRUE(Eventually(
                    [&] {
                      RelaunchIfPortTaken(s);
                      return Health(s) == ServingStatus::kServing;
                    },
                           std::chrono::seconds(240)))
        << s.name << " never became SERVING; log:\n"
        << Log(s);
    EXPECT_EQ(Health(s, "liveness"), ServingStatus::kServing) << s.name;
  }

  // Metrics: the health checks above were RPCs, so every service has counted some.
  for (auto& s : services_) {
    auto m = HttpFetch("GET", absl::StrCat("http://127.0.0.1:", s.http_port, "/metrics"));
    ASSERT_TRUE(m.ok()) << s.name << ": " << m.status();
    EXPECT_THAT(m->body, testing::HasSubstr(absl::StrCat("service=\"", s.name, "\"")));
    fs::path file = dir_ / (s.name + ".metrics");
    std::ofstream(file) << m->body;
    std::string out;
    auto code = RunCommand({.argv = {"sh", "-c", "promtool check metrics < " + file.string()}},
                           &out);
    ASSERT_TRUE(code.ok());
    EXPECT_EQ(*code, 0) << s.name << ": " << out;
  }

  // PostgreSQL dies: services stay up, those that need it report NOT_SERVING...
  pg_->Kill();
  for (auto& s : services_) {
    if (s.uses_database) {
      EXPECT_TRUE(Eventually([&] { return Health(s) == ServingStatus::kNotServing; },
                             std::chrono::seconds(30)))
          << s.name;
    } else {
      EXPECT_EQ(Health(s), ServingStatus::kServing) << s.name;
    }
    EXPECT_EQ(Health(s, "liveness"), ServingStatus::kServing) << s.name;
    EXPECT_TRUE(s.process->Running()) << s.name;
  }
  // ...and SERVING again when it returns.
  ASSERT_TRUE(pg_->Restart().ok());
  for (auto& s : services_) {
    EXPECT_TRUE(Eventually(
                    [&] {
                      RelaunchIfPortTaken(s);
                      return Health(s) == ServingStatus::kServing;
                    },
                           std::chrono::seconds(30)))
        << s.name;
  }

  // SIGTERM: each drains and exits cleanly within its deadline.
  for (auto& s : services_) s.process->Signal(SIGTERM);
  for (auto& s : services_) {
    auto code = s.process->Wait(std::chrono::seconds(20));
    ASSERT_TRUE(code.has_value()) << s.name << " did not exit on SIGTERM";
    EXPECT_EQ(*code, 0) << s.name;
  }
}

}  // namespace
}  // namespace stratus
