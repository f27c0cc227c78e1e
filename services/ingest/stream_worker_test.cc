// StreamWorker against sources whose frames fail in the ways real ones do (reads and decodes
// that throw, frames that do not decode, pixels OpenCV refuses), with the stand-in detector over
// real gRPC: failed frames are counted and skipped, a source that keeps failing goes to FAILED
// with the reason, and nothing escapes to end the process.
#include "services/ingest/stream_worker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/auth/testing/test_keys.h"
#include "common/testing/eventually.h"
#include "services/ingest/testing/faulty_source.h"
#include "services/ingest/testing/square_detector.h"

namespace stratus::ingest {
namespace {

using ::stratus::testing_util::Eventually;
using testing_util::Fault;
using testing_util::FaultySourceOptions;

class StreamWorkerTest : public testing::Test {
 protected:
  void SetUp() override {
    detector_ = testing_util::StartSquareDetector();
    ASSERT_NE(detector_, nullptr);
  }

  std::unique_ptr<StreamWorker> Start(const std::string& name, FaultySourceOptions source,
                                      WorkerOptions options = {}) {
    v1::StreamConfig config;
    config.set_name(name);
    config.set_uri("test://" + name);
    config.set_sample_every_n_frames(1);
    WorkerDeps deps;
    deps.detector =
        auth::testing::ReadChannel(absl::StrCat("127.0.0.1:", detector_->grpc_port()));
    deps.metrics = &registry_;
    deps.replica = "r1";
    deps.open_source = testing_util::FaultySourceOpener(std::move(source));
    options.person_tracking.max_age = std::chrono::milliseconds(800);
    auto w = std::make_unique<StreamWorker>(config, deps, options);
    w->Start();
    return w;
  }

  double Frames(const std::string& stream, const std::string& stage) {
    return metrics::BuildCounter()
        .Name("stratus_ingest_frames_total")
        .Register(registry_)
        .Add({{"stream", stream}, {"stage", stage}})
        .Value();
  }
  double Appeared(const std::string& stream) {
    return metrics::BuildCounter()
        .Name("stratus_ingest_events_total")
        .Register(registry_)
        .Add({{"stream", stream}, {"type", "PERSON_APPEARED"}})
        .Value();
  }

  std::unique_ptr<testing_util::SquareDetector> detector_;
  metrics::Registry registry_;
};

TEST_F(StreamWorkerTest, FailedFramesAreCountedAndSkipped) {
  FaultySourceOptions source;
  source.fault = [](int i) {
    if (i % 6 == 1) return Fault::kOddPixels;
    if (i % 6 == 3) return Fault::kThrowOnDecode;
    if (i % 12 == 5) return Fault::kThrowOnRead;
    if (i % 12 == 11) return Fault::kUndecodable;
    return Fault::kNone;
  };
  int faults = 0;
  for (int i = 0; i < source.frames; ++i) faults += source.fault(i) != Fault::kNone;
  ASSERT_GT(faults, 0);
  auto worker = Start("cam", source);
  // One pass of the source: every fault counted, the good frames analysed and tracked.
  ASSERT_TRUE(Eventually([&] { return Frames("cam", "failed") >= faults && Appeared("cam") >= 1; },
                         std::chrono::seconds(20)));
  EXPECT_GE(Frames("cam", "analysed"), 1);
  v1::StreamStatus status = worker->status();
  EXPECT_NE(status.state(), v1::StreamStatus::FAILED) << status.last_error();
  // Faults never come more than two in a row here, so the source is never given up on.
  EXPECT_GE(Frames("cam", "in"), source.frames - faults / 2);
  worker->Stop();
  EXPECT_EQ(worker->status().state(), v1::StreamStatus::STOPPED);
}

TEST_F(StreamWorkerTest, SourceWhoseFramesKeepFailingIsFailedWithTheReasonAndOthersRunOn) {
  FaultySourceOptions broken;
  broken.fault = [](int i) { return i % 2 == 0 ? Fault::kOddPixels : Fault::kThrowOnRead; };
  WorkerOptions options;
  options.max_consecutive_frame_errors = 6;
  auto bad = Start("broken", broken, options);
  auto good = Start("good", FaultySourceOptions{}, options);
  ASSERT_TRUE(Eventually([&] { return bad->status().state() == v1::StreamStatus::FAILED; },
                         std::chrono::seconds(20)));
  v1::StreamStatus status = bad->status();
  EXPECT_THAT(status.last_error(), testing::HasSubstr("6 frames in a row failed"));
  EXPECT_GE(Frames("broken", "failed"), 6);
  EXPECT_EQ(Frames("broken", "analysed"), 0);
  // The other stream in this process carries on.
  double analysed = Frames("good", "analysed");
  ASSERT_TRUE(
      Eventually([&] { return Frames("good", "analysed") > analysed; }, std::chrono::seconds(20)));
  EXPECT_EQ(Frames("good", "failed"), 0);
  // A FAILED source waits for the longest backoff, but stopping does not.
  auto t0 = std::chrono::steady_clock::now();
  bad->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

}  // namespace
}  // namespace stratus::ingest
