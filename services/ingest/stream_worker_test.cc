// StreamWorker against sources whose frames fail in the ways real ones do (reads and decodes
// that throw, frames that do not decode, pixels OpenCV refuses), with the stand-in detector over
// real gRPC: failed frames are counted and skipped, a source that keeps failing goes to FAILED
// with the reason, and nothing escapes to end the process. And the live view: with a source
// that gives frames only when the test lets it, the last analysed frame with its detections and
// track ids, and WaitForFrame's long-poll (early on a new frame, at the deadline without one,
// at once when the worker stops).
#include "services/ingest/stream_worker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "common/auth/testing/test_keys.h"
#include "common/grpc_channel.h"
#include "common/testing/eventually.h"
#include "common/trace.h"
#include "services/ingest/testing/faulty_source.h"
#include "services/ingest/testing/square_detector.h"

namespace stratus::ingest {
namespace {

using ::stratus::testing_util::Eventually;
using testing_util::Fault;
using testing_util::FaultySourceOptions;

// A live source that gives a frame only when the test lets it (Allow()): the square at x = 20 +
// 10 * (index of the frame), so the tracker follows it. Grab() waits for a permit (or Close()).
class Gate {
 public:
  void Allow(int frames = 1) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      permits_ += frames;
    }
    cv_.notify_all();
  }
  void Close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }
  // While blank, the frames show no square.
  void SetBlank(bool blank) { blank_ = blank; }
  bool blank() const { return blank_; }
  // False once closed.
  bool Take() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return closed_ || permits_ > 0; });
    if (closed_) return false;
    --permits_;
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int permits_ = 0;
  bool closed_ = false;
  std::atomic<bool> blank_{false};
};

// With `clock_fps` > 0 its frames carry presentation timestamps index / clock_fps, as a live
// MPEG-TS or HLS source's do, however they are let through.
class GatedSource : public FrameSource {
 public:
  explicit GatedSource(std::shared_ptr<Gate> gate, double clock_fps = 0)
      : gate_(std::move(gate)), clock_fps_(clock_fps) {}
  bool Grab() override {
    if (!gate_->Take()) return false;
    ++index_;
    return true;
  }
  bool Retrieve(cv::Mat* bgr) override {
    cv::Mat frame(180, 320, CV_8UC3, cv::Scalar(30, 30, 30));
    if (!gate_->blank()) {
      cv::rectangle(frame, cv::Rect(20 + 10 * index_, 50, 40, 80), cv::Scalar(255, 255, 255),
                    cv::FILLED);
    }
    *bgr = frame;
    return true;
  }
  std::optional<double> timestamp() override {
    if (clock_fps_ <= 0) return std::nullopt;
    return 7200 + index_ / clock_fps_;  // a clock that does not start at 0
  }
  double fps() override { return 25; }
  bool needs_pacing() override { return false; }

 private:
  std::shared_ptr<Gate> gate_;
  double clock_fps_;
  int index_ = -1;
};

FrameSourceOpener GatedOpener(std::shared_ptr<Gate> gate, double clock_fps = 0) {
  return
      [gate, clock_fps](const v1::StreamConfig&) -> absl::StatusOr<std::unique_ptr<FrameSource>> {
        return std::make_unique<GatedSource>(gate, clock_fps);
      };
}

using Ms = std::chrono::milliseconds;

Ms Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - t0);
}

class StreamWorkerTest : public testing::Test {
 protected:
  void SetUp() override {
    detector_ = testing_util::StartSquareDetector();
    ASSERT_NE(detector_, nullptr);
  }

  std::unique_ptr<StreamWorker> Start(const std::string& name, FaultySourceOptions source,
                                      WorkerOptions options = {}) {
    return Start(name, testing_util::FaultySourceOpener(std::move(source)), options);
  }
  std::unique_ptr<StreamWorker> Start(const std::string& name, FrameSourceOpener source,
                                      WorkerOptions options = {},
                                      std::vector<v1::StreamConfig::Analysis> analyses = {},
                                      double sample_fps = 0) {
    v1::StreamConfig config;
    config.set_name(name);
    config.set_uri("test://" + name);
    if (sample_fps > 0) {
      config.set_sample_fps(static_cast<float>(sample_fps));
    } else {
      config.set_sample_every_n_frames(1);
    }
    for (auto a : analyses) config.add_analyses(a);
    WorkerDeps deps;
    deps.detector = auth::testing::ReadChannel(absl::StrCat("127.0.0.1:", detector_->grpc_port()));
    deps.metrics = &registry_;
    deps.replica = "r1";
    deps.open_source = std::move(source);
    deps.mask = mask_channel_;
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
  std::shared_ptr<grpc::Channel> mask_channel_;  // set before Start() to ask a mask service
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

// A worker replaced by another for the same stream hands its series on; once the last worker
// of the stream is gone, a scrape shows none of them (only the all-streams latency stays).
TEST_F(StreamWorkerTest, AStreamsSeriesLastAsLongAsItsWorkers) {
  auto scraped = [&](const std::string& text) {
    return registry_.Serialize().find(text) != std::string::npos;
  };
  // Gates are closed before their workers go, so that Grab() returns.
  std::vector<std::shared_ptr<Gate>> gates;
  for (int i = 0; i < 4; ++i) gates.push_back(std::make_shared<Gate>());
  struct CloseAllOnExit {  // however the test ends, before the workers go
    std::vector<std::shared_ptr<Gate>> gates;
    ~CloseAllOnExit() {
      for (auto& g : gates) g->Close();
    }
  };
  std::unique_ptr<StreamWorker> first, other, second, again;
  CloseAllOnExit close_all{gates};  // destroyed before the workers
  auto& gate = gates[0];
  first = Start("gone", GatedOpener(gate));
  other = Start("stays", GatedOpener(gates[1]));
  gate->Allow(4);
  ASSERT_TRUE(Eventually(
      [&] {
        return scraped("stratus_ingest_frames_total{stage=\"in\",stream=\"gone\"} 4\n") &&
               scraped("stratus_ingest_events_total{stream=\"gone\",type=\"PERSON_APPEARED\"} 1\n");
      },
      std::chrono::seconds(20)));
  second = Start("gone", GatedOpener(gates[2]));
  gate->Close();
  first.reset();
  EXPECT_TRUE(scraped("stratus_ingest_frames_total{stage=\"in\",stream=\"gone\"} 4\n"));
  EXPECT_TRUE(scraped("stratus_ingest_events_total{stream=\"gone\",type=\"PERSON_APPEARED\"} 1\n"));
  gates[2]->Close();
  second.reset();
  const std::string text = registry_.Serialize();
  EXPECT_THAT(text, testing::Not(testing::HasSubstr("stream=\"gone\"")));
  EXPECT_THAT(text,
              testing::HasSubstr("stratus_ingest_frames_total{stage=\"in\",stream=\"stays\"}"));
  EXPECT_THAT(text,
              testing::HasSubstr("stratus_ingest_analysis_latency_seconds_count{stream=\"*\"}"));
  // A worker for the stream again starts its series afresh.
  again = Start("gone", GatedOpener(gates[3]));
  EXPECT_TRUE(scraped("stratus_ingest_frames_total{stage=\"in\",stream=\"gone\"} 0\n"));
}

TEST_F(StreamWorkerTest, KeepsTheLastAnalysedFrameWithItsDetectionsAndTrackIds) {
  auto gate = std::make_shared<Gate>();
  auto worker =
      Start("live", GatedOpener(gate), {}, {v1::StreamConfig::OBJECTS, v1::StreamConfig::FACES});
  struct CloseOnExit {  // before the worker goes, however the test ends, or its Stop() waits
    std::shared_ptr<Gate> gate;
    ~CloseOnExit() { gate->Close(); }
  } close_on_exit{gate};
  // Nothing analysed yet: nothing at once, nor after waiting.
  EXPECT_FALSE(worker->WaitForFrame(0, Ms(0)).has_value());
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(worker->WaitForFrame(0, Ms(300)).has_value());
  EXPECT_GE(Since(t0), Ms(300));

  // A waiter wakes as soon as the first frame is analysed, long before its deadline.
  auto first = std::async(std::launch::async, [&] { return worker->WaitForFrame(0, Ms(10000)); });
  std::this_thread::sleep_for(Ms(100));
  t0 = std::chrono::steady_clock::now();
  gate->Allow();
  ASSERT_EQ(first.wait_for(std::chrono::seconds(8)), std::future_status::ready);
  EXPECT_LT(Since(t0), Ms(5000));
  std::optional<StreamWorker::LatestFrame> f = first.get();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->sequence, 1);
  EXPECT_EQ(f->width, 320);
  EXPECT_EQ(f->height, 180);
  ASSERT_NE(f->jpeg, nullptr);
  ASSERT_GT(f->jpeg->size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>((*f->jpeg)[0]), 0xFF);
  EXPECT_EQ(static_cast<unsigned char>((*f->jpeg)[1]), 0xD8);
  cv::Mat decoded = cv::imdecode(
      cv::Mat(1, static_cast<int>(f->jpeg->size()), CV_8UC1, const_cast<char*>(f->jpeg->data())),
      cv::IMREAD_COLOR);
  EXPECT_EQ(decoded.cols, 320);
  EXPECT_EQ(decoded.rows, 180);
  EXPECT_LE(std::chrono::system_clock::now() - f->captured, std::chrono::seconds(10));
  // The person (objects) and its face, as ratios of the picture; not tracked yet (a track is
  // announced on its second frame).
  ASSERT_EQ(f->detections.size(), 2u);
  EXPECT_EQ(f->detections[0].label(), "person");
  EXPECT_FLOAT_EQ(f->detections[0].confidence(), 0.9f);
  EXPECT_NEAR(f->detections[0].box().left(), 20.0 / 320, 0.01);
  EXPECT_NEAR(f->detections[0].box().top(), 50.0 / 180, 0.01);
  EXPECT_NEAR(f->detections[0].box().width(), 40.0 / 320, 0.01);
  EXPECT_NEAR(f->detections[0].box().height(), 80.0 / 180, 0.01);
  EXPECT_EQ(f->detections[0].track_id(), 0);
  EXPECT_EQ(f->detections[1].label(), "face");
  EXPECT_NEAR(f->detections[1].box().height(), 40.0 / 180, 0.01);
  EXPECT_EQ(f->detections[1].track_id(), 0);

  // The next frame is newer, and both tracks are announced now: their ids are drawn.
  gate->Allow();
  f = worker->WaitForFrame(1, Ms(10000));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->sequence, 2);
  ASSERT_EQ(f->detections.size(), 2u);
  EXPECT_NEAR(f->detections[0].box().left(), 30.0 / 320, 0.01);
  EXPECT_GT(f->detections[0].track_id(), 0);
  EXPECT_GT(f->detections[1].track_id(), 0);
  EXPECT_EQ(f->detections[1].label(), "face");
  // The person's track, announced with that frame (its event follows the frame's publication).
  EXPECT_TRUE(Eventually([&] { return Appeared("live") == 1; }));

  // No newer frame comes: the waiter answers at its deadline with the newest it has.
  t0 = std::chrono::steady_clock::now();
  std::optional<StreamWorker::LatestFrame> same = worker->WaitForFrame(2, Ms(400));
  EXPECT_GE(Since(t0), Ms(400));
  EXPECT_LT(Since(t0), Ms(4000));
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(same->sequence, 2);
  EXPECT_EQ(same->jpeg, f->jpeg);  // the same bytes, shared

  // Stopping wakes a waiter at once.
  auto waiting = std::async(std::launch::async, [&] { return worker->WaitForFrame(2, Ms(10000)); });
  std::this_thread::sleep_for(Ms(100));
  t0 = std::chrono::steady_clock::now();
  gate->Close();
  worker->Stop();
  ASSERT_EQ(waiting.wait_for(std::chrono::seconds(8)), std::future_status::ready);
  EXPECT_LT(Since(t0), Ms(5000));
  std::optional<StreamWorker::LatestFrame> last = waiting.get();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->sequence, 2);
  EXPECT_TRUE(worker->stopped());
}

// A live HTTP source delivers its frames in bursts (an HLS segment, an MPEG-TS chunk at once):
// sampled on the stream's timestamps, a burst of 2 s of 25 fps video gives the 10 frames that
// 5 fps asks for, and the queue keeps the burst whole while the detector keeps up. (Sampled on
// arrival, it gave one frame per burst: 0.5 fps with 2-s segments.)
TEST_F(StreamWorkerTest, BurstyLiveSourceIsSampledAtTheAskedRateOnItsTimestamps) {
  auto gate = std::make_shared<Gate>();
  auto worker = Start("hls", GatedOpener(gate, /*clock_fps=*/25), {}, {}, /*sample_fps=*/5);
  struct CloseOnExit {
    std::shared_ptr<Gate> gate;
    ~CloseOnExit() { gate->Close(); }
  } close_on_exit{gate};
  for (int burst = 1; burst <= 3; ++burst) {
    gate->Allow(50);  // one 2-s segment, all at once
    ASSERT_TRUE(
        Eventually([&] { return Frames("hls", "in") >= 50 * burst; }, std::chrono::seconds(20)));
    // The burst's samples are analysed, none dropped: 10 per burst (the first frame of the
    // stream is sampled too, and the next burst starts where this one ended).
    EXPECT_TRUE(Eventually([&] { return Frames("hls", "analysed") >= 10 * burst; },
                           std::chrono::seconds(20)))
        << Frames("hls", "analysed") << " analysed after burst " << burst;
    std::this_thread::sleep_for(Ms(300));
  }
  EXPECT_LE(Frames("hls", "analysed"), 31);
  EXPECT_EQ(Frames("hls", "dropped"), 0);
  // fps_in is the stream's rate on its clock, not the rate the burst arrived at.
  EXPECT_NEAR(worker->status().fps_in(), 25, 1);
}

// A mask service that says "without_mask" and keeps the traceparent of every call.
class TraceRecordingMask : public v1::MaskService::Service {
 public:
  grpc::Status Classify(grpc::ServerContext* context, const v1::ClassifyRequest* request,
                        v1::ClassifyResponse* response) override {
    auto it = context->client_metadata().find(trace::kTraceparentHeader);
    {
      std::lock_guard<std::mutex> lock(mu_);
      traceparents_.push_back(it == context->client_metadata().end()
                                  ? ""
                                  : std::string(it->second.data(), it->second.size()));
    }
    for (int i = 0; i < request->boxes_size(); ++i) {
      auto* r = response->add_results();
      r->set_label("without_mask");
      r->set_confidence(0.9f);
    }
    return grpc::Status::OK;
  }
  std::vector<std::string> traceparents() {
    std::lock_guard<std::mutex> lock(mu_);
    return traceparents_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> traceparents_;
};

// Each sampled frame starts a trace: the mask call about a face that appeared in it carries it
// (a valid W3C traceparent), so its log lines and the mask service's name the same trace; a
// face that appears in a later frame, that frame's trace.
TEST_F(StreamWorkerTest, TheMaskCallAboutAFrameCarriesTheFramesTrace) {
  TraceRecordingMask mask;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&mask);
  auto server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  mask_channel_ = MakeChannel(absl::StrCat("127.0.0.1:", port));
  auto gate = std::make_shared<Gate>();
  auto worker =
      Start("masks", GatedOpener(gate), {}, {v1::StreamConfig::FACES, v1::StreamConfig::MASKS});
  struct CloseOnExit {
    std::shared_ptr<Gate> gate;
    ~CloseOnExit() { gate->Close(); }
  } close_on_exit{gate};
  gate->Allow(4);
  ASSERT_TRUE(
      Eventually([&] { return mask.traceparents().size() == 1; }, std::chrono::seconds(20)));
  // The face goes (a dark frame after the track's max_age), and comes back: a new track.
  gate->SetBlank(true);
  gate->Allow(1);
  std::this_thread::sleep_for(Ms(1000));
  gate->Allow(1);
  ASSERT_TRUE(Eventually([&] { return Frames("masks", "in") >= 6; }, std::chrono::seconds(20)));
  std::this_thread::sleep_for(Ms(200));
  gate->SetBlank(false);
  gate->Allow(4);
  ASSERT_TRUE(
      Eventually([&] { return mask.traceparents().size() == 2; }, std::chrono::seconds(20)));
  auto first = trace::ParseTraceparent(mask.traceparents()[0]);
  auto second = trace::ParseTraceparent(mask.traceparents()[1]);
  ASSERT_TRUE(first.has_value()) << "'" << mask.traceparents()[0] << "'";
  ASSERT_TRUE(second.has_value()) << "'" << mask.traceparents()[1] << "'";
  EXPECT_TRUE(first->sampled());
  EXPECT_NE(first->trace_id, second->trace_id);
  gate->Close();
  worker->Stop();
  server->Shutdown();
}

}  // namespace
}  // namespace stratus::ingest
