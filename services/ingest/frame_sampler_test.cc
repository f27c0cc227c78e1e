// FrameSampler: the asked rate on the stream's clock, whatever the timestamps look like.
#include "services/ingest/frame_sampler.h"

#include <gtest/gtest.h>

#include <functional>
#include <optional>

namespace stratus::ingest {
namespace {

// Frame i of a live HTTP source arrives with the 49 after it, all in one burst every 2 s (an HLS
// segment of 25 fps video): sampled on arrival, a burst would give one frame.
double Bursty(int i) { return (i / 50) * 2.0 + (i % 50) * 1e-4; }

// Samples `frames` frames whose timestamps `ts(i)` gives, arriving at `arrival(i)`; returns how
// many were sampled.
int Count(FrameSampler& sampler, int frames, const std::function<std::optional<double>(int)>& ts,
          const std::function<double(int)>& arrival = Bursty) {
  int n = 0;
  for (int i = 0; i < frames; ++i) n += sampler.Sample(ts(i), arrival(i)) ? 1 : 0;
  return n;
}

TEST(FrameSamplerTest, SamplesTheAskedRateOnTimestamps) {
  FrameSampler s(0, 5, 25);
  // 10 s of a 25 fps camera: 50 samples, the first frame among them.
  EXPECT_EQ(Count(s, 250, [](int i) { return i * 0.04; }), 50);
  EXPECT_NEAR(s.fps_in(), 25, 0.01);
  EXPECT_NEAR(s.elapsed(), 249 * 0.04, 1e-6);
}

TEST(FrameSamplerTest, FollowsTimestampsNotTheAnnouncedRate) {
  // A 12.5 fps MPEG-TS stream whose container announces 25 (or anything): 12.5 fps in, and 5 of
  // them analysed per second of stream time.
  FrameSampler s(0, 5, 25);
  EXPECT_NEAR(Count(s, 125, [](int i) { return 3600 + i * 0.08; }), 50, 1);
  EXPECT_NEAR(s.fps_in(), 12.5, 0.01);
}

TEST(FrameSamplerTest, WithoutTimestampsSamplesOnArrival) {
  // A camera sending MJPEG over HTTP at 10 fps, whatever it announces.
  FrameSampler none(0, 5, 25);
  EXPECT_EQ(Count(
                none, 100, [](int) { return std::nullopt; }, [](int i) { return i * 0.1; }),
            50);
  EXPECT_NEAR(none.fps_in(), 10, 0.01);
  // OpenCV reports 0 for a source without presentation times: not a clock that advances.
  FrameSampler zeros(0, 5, 25);
  EXPECT_EQ(Count(
                zeros, 100, [](int) { return 0.0; }, [](int i) { return 50 + i * 0.1; }),
            50);
}

TEST(FrameSamplerTest, EveryNthFrame) {
  FrameSampler s(3, 0, 25);
  EXPECT_EQ(Count(s, 30, [](int i) { return i * 0.04; }), 10);
}

TEST(FrameSamplerTest, AskedRateAboveTheSourceSamplesEveryFrame) {
  FrameSampler s(0, 30, 12.5);
  EXPECT_EQ(Count(s, 100, [](int i) { return i * 0.08; }), 100);
}

TEST(FrameSamplerTest, JitteredTimestampsKeepTheRate) {
  FrameSampler s(0, 5, 25);
  // +-8 ms of jitter on a 25 fps clock.
  EXPECT_NEAR(Count(s, 2500, [](int i) { return i * 0.04 + ((i * 7919) % 17 - 8) * 0.001; }), 500,
              5);
}

TEST(FrameSamplerTest, DiscontinuitiesReanchorInsteadOfStalling) {
  // The camera restarts after 5 s (its clock goes back to 0), then jumps an hour ahead.
  FrameSampler s(0, 5, 25);
  auto ts = [](int i) {
    if (i < 125) return 100 + i * 0.04;
    if (i < 250) return (i - 125) * 0.04;
    return 3600 + (i - 250) * 0.04;
  };
  EXPECT_NEAR(Count(s, 375, ts), 75, 2);
  // Stream time elapsed stays monotonic across both: 374 frame intervals.
  EXPECT_NEAR(s.elapsed(), 374 * 0.04, 1e-6);
}

TEST(FrameSamplerTest, MissingFramesDoNotBurst) {
  // Two seconds lost in transit: one sample when frames resume, then the rate again.
  FrameSampler s(0, 5, 25);
  int n = 0;
  for (int i = 0; i < 250; ++i) {
    if (i >= 100 && i < 150) continue;
    n += s.Sample(i * 0.04, Bursty(i)) ? 1 : 0;
  }
  EXPECT_NEAR(n, 40, 1);
}

}  // namespace
}  // namespace stratus::ingest
