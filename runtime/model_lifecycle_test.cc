#include "runtime/model_lifecycle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

namespace stratus::runtime {
namespace {

using ::testing::HasSubstr;

TEST(ModelLifecycleTest, LoadingThenReadyOnceWhoeverAsks) {
  ModelLifecycle lifecycle("the test model");
  EXPECT_EQ(lifecycle.state(), ModelLifecycle::State::kLoading);
  EXPECT_EQ(lifecycle.Readiness().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(lifecycle.Readiness().message(), HasSubstr("the test model is loading"));
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> runs{0};
  std::promise<void> done;
  lifecycle.Start(
      [&] {
        ++runs;
        released.wait();
        return absl::OkStatus();
      },
      [&] { done.set_value(); });
  // While the background load runs: still LOADING, and a second load waits for the first.
  EXPECT_FALSE(lifecycle.done());
  auto second = std::async(std::launch::async, [&] {
    return lifecycle.Run([&] {
      ++runs;
      return absl::InternalError("never runs");
    });
  });
  EXPECT_EQ(second.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  release.set_value();
  done.get_future().wait();
  EXPECT_TRUE(second.get().ok());
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(lifecycle.state(), ModelLifecycle::State::kReady);
  EXPECT_TRUE(lifecycle.Readiness().ok());
  lifecycle.Start([] { return absl::InternalError("not again"); });  // no-op once done
  lifecycle.Join();
  EXPECT_TRUE(lifecycle.result().ok());
}

TEST(ModelLifecycleTest, FailedKeepsTheReason) {
  ModelLifecycle lifecycle("the mask model 'm'");
  const absl::Status s = lifecycle.Run([] { return absl::NotFoundError("no folder m"); });
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);  // Run gives the load function's result
  EXPECT_EQ(lifecycle.state(), ModelLifecycle::State::kFailed);
  EXPECT_STREQ(ModelLifecycleStateName(lifecycle.state()), "FAILED");
  EXPECT_EQ(lifecycle.Readiness().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(lifecycle.Readiness().message(), "the mask model 'm' failed to load: no folder m");
  EXPECT_EQ(lifecycle.result().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace stratus::runtime
