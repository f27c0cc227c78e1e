// The channel conventions of common/grpc_channel.h, seen from the detector client: two detector
// replicas behind one target both get calls (round_robin), and when one stops the other takes
// every call with none failing; an UNAVAILABLE first attempt is retried, and an outgoing
// deadline never outlives the incoming call that caused it.
#include "clients/cpp/detector_client.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "common/grpc_channel.h"
#include "stratus/v1/detector.grpc.pb.h"

namespace stratus {
namespace {

namespace v1 = ::stratus::v1;
using Clock = std::chrono::system_clock;

// A detector replica: counts its calls, fails the first `fail_first` with UNAVAILABLE, and keeps
// the deadline and user agent of the last call.
class Replica final : public v1::DetectorService::Service {
 public:
  explicit Replica(int fail_first = 0) : fail_first_(fail_first) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(this);
    ApplyServerKeepalive(&builder);
    server_ = builder.BuildAndStart();
  }
  ~Replica() override { Stop(); }
  // Shuts the server down (its listening socket closes; open connections get GOAWAY).
  void Stop() {
    if (stopped_.exchange(true)) return;
    server_->Shutdown(Clock::now() + std::chrono::seconds(1));
    server_->Wait();
  }

  grpc::Status Detect(grpc::ServerContext* ctx, const v1::DetectRequest* request,
                      v1::DetectResponse* response) override {
    const int n = calls_++;
    {
      std::lock_guard<std::mutex> lock(mu_);
      deadline_ = ctx->deadline();
      auto ua = ctx->client_metadata().find("user-agent");
      user_agent_ = ua == ctx->client_metadata().end()
                        ? ""
                        : std::string(ua->second.data(), ua->second.size());
    }
    if (n < fail_first_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "warming up");
    response->set_model(request->model());
    response->set_sequence(port_);  // which replica answered
    return grpc::Status::OK;
  }

  int port() const { return port_; }
  int calls() const { return calls_; }
  void reset() { calls_ = 0; }
  Clock::time_point deadline() {
    std::lock_guard<std::mutex> lock(mu_);
    return deadline_;
  }
  std::string user_agent() {
    std::lock_guard<std::mutex> lock(mu_);
    return user_agent_;
  }

 private:
  const int fail_first_;
  int port_ = 0;
  std::atomic<int> calls_{0};
  std::mutex mu_;
  Clock::time_point deadline_;
  std::string user_agent_;
  std::atomic<bool> stopped_{false};
  std::unique_ptr<grpc::Server> server_;
};

std::string Target(const Replica& a, const Replica& b) {
  return "ipv4:127.0.0.1:" + std::to_string(a.port()) + ",127.0.0.1:" + std::to_string(b.port());
}

v1::DetectRequest Request() {
  v1::DetectRequest r;
  r.set_model("faces");
  return r;
}

TEST(DetectorClientTest, TwoReplicasBehindOneTargetBothReceiveCalls) {
  Replica a, b;
  clients::DetectorClient client({.address = Target(a, b)});
  ASSERT_TRUE(client.channel()->WaitForConnected(Clock::now() + std::chrono::seconds(10)));
  // round_robin picks among READY subchannels: wait until both have answered once.
  for (int i = 0; i < 200 && (a.calls() == 0 || b.calls() == 0); ++i) {
    ASSERT_TRUE(client.Detect(Request()).ok());
  }
  ASSERT_GT(a.calls(), 0);
  ASSERT_GT(b.calls(), 0);
  a.reset();
  b.reset();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(client.Detect(Request()).ok());
  EXPECT_EQ(a.calls(), 10);
  EXPECT_EQ(b.calls(), 10);
  EXPECT_EQ(a.user_agent().rfind("stratus/", 0), 0u) << a.user_agent();
}

TEST(DetectorClientTest, WhenOneReplicaStopsTheOtherTakesEveryCall) {
  Replica a, b;
  // One channel from MakeChannel over both replicas, as a service gets for a headless Service.
  auto channel = MakeChannel(Target(a, b));
  clients::DetectorClient client(channel, {.address = Target(a, b)});
  for (int i = 0; i < 200 && (a.calls() == 0 || b.calls() == 0); ++i) {
    ASSERT_TRUE(client.Detect(Request()).ok());
  }
  ASSERT_GT(a.calls(), 0);
  ASSERT_GT(b.calls(), 0);
  b.Stop();
  const int b_calls = b.calls();
  a.reset();
  // Every call succeeds at once: the stopped replica's GOAWAY takes its subchannel out of the
  // rotation, and a call that picked it before that never left the client and is retried on
  // the one still up (transparently, or by the UNAVAILABLE retry policy).
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<v1::DetectResponse> r = client.Detect(Request());
    ASSERT_TRUE(r.ok()) << "call " << i << ": " << r.status();
    EXPECT_EQ(r->sequence(), a.port()) << "call " << i;
  }
  EXPECT_EQ(a.calls(), 20);
  EXPECT_EQ(b.calls(), b_calls);
}

TEST(DetectorClientTest, ChannelWithoutTheServiceConfigPinsOneReplica) {
  // The contrast that makes the test above mean something: gRPC's default (pick_first) sends
  // every call to the first address.
  Replica a, b;
  auto channel = grpc::CreateChannel(Target(a, b), grpc::InsecureChannelCredentials());
  clients::DetectorClient client(channel, {.address = Target(a, b)});
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(client.Detect(Request()).ok());
  EXPECT_EQ(a.calls() + b.calls(), 20);
  EXPECT_TRUE(a.calls() == 0 || b.calls() == 0);
}

TEST(DetectorClientTest, UnavailableFirstAttemptIsRetried) {
  Replica flaky(/*fail_first=*/1);
  clients::DetectorClient client({.address = "127.0.0.1:" + std::to_string(flaky.port())});
  absl::StatusOr<v1::DetectResponse> r = client.Detect(Request());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->model(), "faces");
  EXPECT_EQ(flaky.calls(), 2);
}

TEST(DetectorClientTest, WithoutRetriesTheUnavailableAnswerReachesTheCaller) {
  Replica flaky(/*fail_first=*/1);
  auto channel = MakeChannel(ChannelOptions{.target = "127.0.0.1:" + std::to_string(flaky.port()),
                                            .retry_unavailable = false});
  clients::DetectorClient client(channel, {});
  absl::StatusOr<v1::DetectResponse> r = client.Detect(Request());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_EQ(flaky.calls(), 1);
}

TEST(DetectorClientTest, RetriesStopAfterMaxAttempts) {
  Replica down(/*fail_first=*/100);
  clients::DetectorClient client({.address = "127.0.0.1:" + std::to_string(down.port())});
  EXPECT_EQ(client.Detect(Request()).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(down.calls(), kRetryMaxAttempts);
}

// A front service that, serving a call, calls the detector with the incoming context.
class Front final : public v1::DetectorService::Service {
 public:
  explicit Front(clients::DetectorClient* detector) : detector_(detector) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~Front() override { server_->Shutdown(Clock::now() + std::chrono::seconds(1)); }
  grpc::Status Detect(grpc::ServerContext* ctx, const v1::DetectRequest* request,
                      v1::DetectResponse* response) override {
    incoming_ = ctx->deadline();
    auto r = detector_->Detect(*request, ctx);
    if (!r.ok()) return grpc::Status(grpc::StatusCode::INTERNAL, std::string(r.status().message()));
    *response = *r;
    return grpc::Status::OK;
  }
  int port() const { return port_; }
  Clock::time_point incoming() const { return incoming_; }

 private:
  clients::DetectorClient* detector_;
  int port_ = 0;
  Clock::time_point incoming_;
  std::unique_ptr<grpc::Server> server_;
};

TEST(DetectorClientTest, PropagatedDeadlineIsNotLongerThanTheIncomingOne) {
  Replica detector;
  // The detector client's own timeout (60 s) is far longer than the incoming call's (2 s).
  clients::DetectorClient to_detector({.address = "127.0.0.1:" + std::to_string(detector.port()),
                                       .timeout = std::chrono::seconds(60)});
  Front front(&to_detector);
  auto stub =
      v1::DetectorService::NewStub(MakeChannel("127.0.0.1:" + std::to_string(front.port())));
  grpc::ClientContext ctx;
  const Clock::time_point caller_deadline = Clock::now() + std::chrono::seconds(2);
  ctx.set_deadline(caller_deadline);
  v1::DetectResponse response;
  ASSERT_TRUE(stub->Detect(&ctx, Request(), &response).ok());
  EXPECT_LE(front.incoming(), caller_deadline + std::chrono::milliseconds(50));
  EXPECT_LE(detector.deadline(), front.incoming() + std::chrono::milliseconds(50));
  EXPECT_LE(detector.deadline(), caller_deadline + std::chrono::milliseconds(50));
}

TEST(DeadlineTest, OutgoingDeadlineIsCappedByTheScopeAndRestoredAfter) {
  const Clock::time_point near = Clock::now() + std::chrono::seconds(1);
  EXPECT_GT(OutgoingDeadline(std::chrono::seconds(30)), near + std::chrono::seconds(20));
  {
    IncomingDeadlineScope scope(near);
    EXPECT_EQ(OutgoingDeadline(std::chrono::seconds(30)), near);
    EXPECT_EQ(OutgoingDeadline(DefaultTimeout(CallKind::kStream)), near);
    {
      IncomingDeadlineScope later(near + std::chrono::seconds(10));  // cannot extend it
      EXPECT_EQ(OutgoingDeadline(std::chrono::seconds(30)), near);
    }
    EXPECT_LT(OutgoingDeadline(std::chrono::milliseconds(10)), near);
  }
  EXPECT_GT(OutgoingDeadline(std::chrono::seconds(30)), near + std::chrono::seconds(20));
  EXPECT_EQ(OutgoingDeadline(DefaultTimeout(CallKind::kStream)), Clock::time_point::max());
}

TEST(ChannelTest, DefaultArgumentsCarryTheConventions) {
  grpc::ChannelArguments args = DefaultChannelArguments({.target = "x"});
  grpc_channel_args c = args.c_channel_args();
  auto find = [&](const char* key) -> const grpc_arg* {
    for (size_t i = 0; i < c.num_args; ++i) {
      if (std::string(c.args[i].key) == key) return &c.args[i];
    }
    return nullptr;
  };
  ASSERT_NE(find(GRPC_ARG_KEEPALIVE_TIME_MS), nullptr);
  EXPECT_EQ(find(GRPC_ARG_KEEPALIVE_TIME_MS)->value.integer, 30000);
  ASSERT_NE(find(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS), nullptr);
  EXPECT_EQ(find(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS)->value.integer, 1);
  ASSERT_NE(find(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH), nullptr);
  EXPECT_EQ(find(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH)->value.integer, kDefaultMaxMessageBytes);
  ASSERT_NE(find(GRPC_ARG_SERVICE_CONFIG), nullptr);
  const std::string config = find(GRPC_ARG_SERVICE_CONFIG)->value.string;
  EXPECT_NE(config.find("round_robin"), std::string::npos);
  EXPECT_NE(config.find("\"UNAVAILABLE\""), std::string::npos);
}

}  // namespace
}  // namespace stratus
