// MaskClient and RecognitionClient against stand-in services over real gRPC: answers arrive
// typed, each call gets its deadline (the client's timeout, or the call kind's default), and a
// service's error keeps its code and message.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <mutex>

#include "absl/strings/str_cat.h"
#include "clients/cpp/mask_client.h"
#include "clients/cpp/service_client.h"

namespace stratus {
namespace {

namespace v1 = ::stratus::v1;
using Clock = std::chrono::system_clock;
using ::testing::HasSubstr;

// Keeps each call's deadline; Classify answers one label per box, SearchFacesByImage refuses an
// unknown collection as the real service does.
class Services final : public v1::MaskService::Service, public v1::RecognitionService::Service {
 public:
  Services() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(static_cast<v1::MaskService::Service*>(this));
    builder.RegisterService(static_cast<v1::RecognitionService::Service*>(this));
    server_ = builder.BuildAndStart();
  }
  ~Services() override { server_->Shutdown(Clock::now() + std::chrono::seconds(1)); }

  grpc::Status Classify(grpc::ServerContext* ctx, const v1::ClassifyRequest* request,
                        v1::ClassifyResponse* response) override {
    Keep(ctx);
    for (int i = 0; i < request->boxes_size(); ++i) response->add_results()->set_label("with_mask");
    return grpc::Status::OK;
  }
  grpc::Status SearchFacesByImage(grpc::ServerContext* ctx,
                                  const v1::SearchFacesByImageRequest* request,
                                  v1::SearchFacesByImageResponse* response) override {
    Keep(ctx);
    if (request->collection_id() != "known") {
      return grpc::Status(
          grpc::StatusCode::NOT_FOUND,
          absl::StrCat("The collection id: ", request->collection_id(), " does not exist"));
    }
    response->add_face_matches()->set_similarity(99);
    return grpc::Status::OK;
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  // Seconds from now to the last call's deadline, as the server saw it.
  double LastDeadlineSeconds() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::chrono::duration<double>(deadline_ - seen_).count();
  }

 private:
  void Keep(grpc::ServerContext* ctx) {
    std::lock_guard<std::mutex> lock(mu_);
    deadline_ = ctx->deadline();
    seen_ = Clock::now();
  }
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::mutex mu_;
  Clock::time_point deadline_, seen_;
};

TEST(MaskClientTest, ClassifiesWithItsDeadline) {
  Services services;
  clients::MaskClient client(
      {.address = services.address(), .timeout = std::chrono::milliseconds(3000)});
  v1::ClassifyRequest request;
  request.add_boxes();
  request.add_boxes();
  auto response = client.Classify(request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->results_size(), 2);
  EXPECT_EQ(response->results(0).label(), "with_mask");
  EXPECT_NEAR(services.LastDeadlineSeconds(), 3.0, 0.5);
}

TEST(RecognitionClientTest, TypedCallsWithTheirKindsDeadlineAndTheServicesErrors) {
  Services services;
  clients::RecognitionClient client({.address = services.address()});
  v1::SearchFacesByImageRequest request;
  request.set_collection_id("known");
  auto found =
      client.Call(&v1::RecognitionService::Stub::SearchFacesByImage, request, CallKind::kIndexed);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->face_matches_size(), 1);
  EXPECT_FLOAT_EQ(found->face_matches(0).similarity(), 99);
  const double indexed = DefaultTimeout(CallKind::kIndexed).count() / 1000.0;
  EXPECT_NEAR(services.LastDeadlineSeconds(), indexed, 0.5);
  // Another kind, another deadline; an explicit timeout overrides both.
  (void)client.Call(&v1::RecognitionService::Stub::SearchFacesByImage, request, CallKind::kControl);
  EXPECT_NEAR(services.LastDeadlineSeconds(), DefaultTimeout(CallKind::kControl).count() / 1000.0,
              0.5);
  clients::RecognitionClient quick(
      {.address = services.address(), .timeout = std::chrono::milliseconds(1500)});
  (void)quick.Call(&v1::RecognitionService::Stub::SearchFacesByImage, request, CallKind::kIndexed);
  EXPECT_NEAR(services.LastDeadlineSeconds(), 1.5, 0.5);

  request.set_collection_id("nope");
  auto missing =
      client.Call(&v1::RecognitionService::Stub::SearchFacesByImage, request, CallKind::kIndexed);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("nope does not exist"));
}

}  // namespace
}  // namespace stratus
