#include "common/service_host.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/auth/testing/test_keys.h"
#include "common/http_client.h"
#include "common/subprocess.h"
#include "common/testing/eventually.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace stratus {
namespace {

using ::stratus::testing_util::Eventually;

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

HealthCheckResponse::ServingStatus Check(int port, const std::string& service) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                     grpc::InsecureChannelCredentials());
  auto stub = Health::NewStub(channel);
  HealthCheckRequest req;
  req.set_service(service);
  HealthCheckResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  auto s = stub->Check(&ctx, req, &resp);
  if (!s.ok()) return HealthCheckResponse::UNKNOWN;
  return resp.status();
}

class ServiceHostTest : public testing::Test {
 protected:
  void SetUp() override {
    ServiceHost::Options options;
    options.service_name = "test";
    options.grpc_address = "127.0.0.1";
    options.http_address = "127.0.0.1";
    options.readiness_interval = std::chrono::milliseconds(50);
    options.drain_deadline = std::chrono::milliseconds(500);
    options.api_keys = auth::testing::TestKeyStore();
    auto host = ServiceHost::Create(options);
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = std::move(*host);
    host_->AddReadinessCheck("dependency", [this]() -> absl::Status {
      return ready_.load() ? absl::OkStatus() : absl::UnavailableError("dependency down");
    });
    ASSERT_TRUE(host_->Start().ok());
  }

  std::atomic<bool> ready_{true};
  std::unique_ptr<ServiceHost> host_;
};

TEST_F(ServiceHostTest, ReadinessFollowsChecksWhileLivenessStaysUp) {
  int port = host_->grpc_port();
  ASSERT_GT(port, 0);
  EXPECT_TRUE(Eventually([&] { return Check(port, "") == HealthCheckResponse::SERVING; }));
  EXPECT_EQ(Check(port, "liveness"), HealthCheckResponse::SERVING);

  ready_ = false;
  EXPECT_TRUE(Eventually([&] { return Check(port, "") == HealthCheckResponse::NOT_SERVING; }));
  EXPECT_EQ(Check(port, "liveness"), HealthCheckResponse::SERVING);
  auto readyz = HttpFetch("GET", "http://127.0.0.1:" + std::to_string(host_->http_port()) + "/readyz");
  ASSERT_TRUE(readyz.ok());
  EXPECT_EQ(readyz->status, 503);
  EXPECT_THAT(readyz->body, testing::HasSubstr("dependency down"));

  ready_ = true;
  EXPECT_TRUE(Eventually([&] { return Check(port, "") == HealthCheckResponse::SERVING; }));
  auto healthz = HttpFetch("GET", "http://127.0.0.1:" + std::to_string(host_->http_port()) + "/healthz");
  ASSERT_TRUE(healthz.ok());
  EXPECT_EQ(healthz->status, 200);
}

// A loader that finishes calls RecheckReadiness(): the host turns SERVING then, not at its next
// interval (an hour here, so only the recheck can do it).
TEST(ServiceHostRecheckTest, RecheckReadinessEvaluatesAtOnce) {
  ServiceHost::Options options;
  options.service_name = "test";
  options.grpc_address = "127.0.0.1";
  options.readiness_interval = std::chrono::hours(1);
  options.api_keys = auth::testing::TestKeyStore();
  auto host = ServiceHost::Create(options);
  ASSERT_TRUE(host.ok()) << host.status();
  std::atomic<bool> loaded{false};
  (*host)->AddReadinessCheck("model", [&loaded]() -> absl::Status {
    return loaded.load() ? absl::OkStatus() : absl::UnavailableError("model not loaded yet");
  });
  ASSERT_TRUE((*host)->Start().ok());
  const int port = (*host)->grpc_port();
  EXPECT_EQ(Check(port, ""), HealthCheckResponse::NOT_SERVING);

  loaded = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(Check(port, ""), HealthCheckResponse::NOT_SERVING) << "re-evaluated without a recheck";
  (*host)->RecheckReadiness();
  EXPECT_TRUE(Eventually([&] { return Check(port, "") == HealthCheckResponse::SERVING; }));
  EXPECT_TRUE((*host)->readiness().ok());
  (*host)->Shutdown();
}

TEST_F(ServiceHostTest, MetricsCountRpcsAndPassPromtool) {
  int port = host_->grpc_port();
  ASSERT_TRUE(Eventually([&] { return Check(port, "") == HealthCheckResponse::SERVING; }));
  auto metrics =
      HttpFetch("GET", "http://127.0.0.1:" + std::to_string(host_->http_port()) + "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_THAT(metrics->headers["content-type"], testing::HasSubstr("version=0.0.4"));
  EXPECT_THAT(metrics->body,
              testing::HasSubstr("stratus_rpc_requests_total{code=\"ok\",method=\"Check\",service=\"test\"}"));
  EXPECT_THAT(metrics->body, testing::HasSubstr("stratus_rpc_duration_seconds_bucket{"));

  if (access("/usr/bin/promtool", X_OK) != 0) GTEST_FAIL() << "promtool missing: run make deps";
  std::string path = std::filesystem::temp_directory_path() / "stratus-metrics.txt";
  std::ofstream(path) << metrics->body;
  std::string out;
  auto code = RunCommand({.argv = {"sh", "-c", "promtool check metrics < " + path}}, &out);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << out;
}

TEST_F(ServiceHostTest, UnknownHttpPathIs404) {
  auto r = HttpFetch("GET", "http://127.0.0.1:" + std::to_string(host_->http_port()) + "/nope");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
}

TEST_F(ServiceHostTest, ShutdownStopsServingAndReturnsFromWait) {
  int port = host_->grpc_port();
  ASSERT_TRUE(Eventually([&] { return Check(port, "") == HealthCheckResponse::SERVING; }));
  std::thread waiter([&] { host_->Wait(); });
  host_->Shutdown();
  waiter.join();
  EXPECT_NE(Check(port, ""), HealthCheckResponse::SERVING);
}

TEST(ServiceHostCreateTest, RejectsBadOptions) {
  ServiceHost::Options options;
  options.api_keys = auth::testing::TestKeyStore();
  EXPECT_FALSE(ServiceHost::Create(options).ok());  // no name
  options.service_name = "x";
  EXPECT_TRUE(ServiceHost::Create(options).ok());
  options.api_keys = nullptr;
  EXPECT_FALSE(ServiceHost::Create(options).ok());  // no key store
  options.api_keys = auth::testing::TestKeyStore();
  options.grpc_port = 70000;
  EXPECT_FALSE(ServiceHost::Create(options).ok());
}

// Each connection is asked to go away after max_connection_age: the client's channel leaves
// READY (and reconnects on its next call, resolving the name again). Without it the connection
// stays up.
TEST(ServiceHostConnectionAgeTest, ClientsAreAskedToReconnectAfterTheAge) {
  for (const int age_s : {1, 0}) {
    ServiceHost::Options options;
    options.service_name = "test";
    options.grpc_address = "127.0.0.1";
    options.http_port = -1;
    options.api_keys = auth::testing::TestKeyStore();
    options.max_connection_age = std::chrono::seconds(age_s);
    auto host = ServiceHost::Create(options);
    ASSERT_TRUE(host.ok()) << host.status();
    ASSERT_TRUE((*host)->Start().ok());
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string((*host)->grpc_port()),
                                       grpc::InsecureChannelCredentials());
    auto stub = Health::NewStub(channel);
    HealthCheckRequest req;
    HealthCheckResponse resp;
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->Check(&ctx, req, &resp).ok());
    ASSERT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
    // The age (+-10%) and gRPC's timer granularity; a connection with no age stays READY.
    const bool left_ready = channel->WaitForStateChange(
        GRPC_CHANNEL_READY, std::chrono::system_clock::now() + std::chrono::seconds(4));
    EXPECT_EQ(left_ready, age_s > 0) << "age " << age_s << " s";
    grpc::ClientContext again;
    EXPECT_TRUE(stub->Check(&again, req, &resp).ok());  // reconnects
    (*host)->Shutdown();
  }
}

TEST_F(ServiceHostTest, ServesChannelzBehindApiKeys) {
  const std::string target = "127.0.0.1:" + std::to_string(host_->grpc_port());
  const std::string method = "/grpc.channelz.v1.Channelz/GetServers";
  grpc::Status with_key = auth::testing::RawCall(
      target, method, std::string("Bearer ") + auth::testing::kAdminKey);
  EXPECT_TRUE(with_key.ok()) << with_key.error_code() << " " << with_key.error_message();
  EXPECT_EQ(auth::testing::RawCall(target, method, "").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace stratus
