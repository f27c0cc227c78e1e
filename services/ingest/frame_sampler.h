// Which grabbed frames a stream analyses, decided on the stream's own clock.
//
// Live HTTP sources deliver frames in bursts (an HLS segment, an MPEG-TS chunk at once), so
// sampling on arrival time analyses about one frame per burst: 0.5 fps with 2-s segments where
// 5 were asked. FrameSampler samples on the frames' presentation timestamps instead (the
// camera's clock, FrameSource::timestamp()), so every source that carries timestamps is sampled
// at the asked rate whatever its delivery; one that carries none (MJPEG over HTTP) is sampled on
// arrival, the only clock it has.
//
//   FrameSampler sampler(/*every_n=*/0, /*fps=*/5, /*announced_fps=*/25);
//   while (source.Grab()) if (sampler.Sample(source.timestamp(), SecondsNow())) { ...decode... }
//
// The stream clock: a frame's timestamp once the source's timestamps have been seen to advance
// (two frames in a row), else its arrival time. A step back by more than a second, or
// forward by more than kMaxGap (a restarted camera, a wrapped or discontinuous clock, an HLS
// discontinuity), re-anchors sampling at that frame instead of stalling or bursting.
// Not thread-safe: the capture thread owns one per source session.
#ifndef STRATUS_SERVICES_INGEST_FRAME_SAMPLER_H_
#define STRATUS_SERVICES_INGEST_FRAME_SAMPLER_H_

#include <cstdint>
#include <optional>

namespace stratus::ingest {

class FrameSampler {
 public:
  static constexpr double kMaxGap = 10;  // seconds of stream time between two frames

  // every_n > 0: every Nth frame (1, N+1, ... are not; N, 2N, ... are), `fps` unused. Otherwise
  // `fps` frames per second of stream time (> 0). `announced_fps`: the rate the source
  // announces, for the slack a jittery clock gets (<= 0 or implausible: 25).
  FrameSampler(int every_n, double fps, double announced_fps);

  // Called once per grabbed frame, in order: whether to decode and analyse it. `timestamp`:
  // the frame's presentation time in seconds, nullopt when the source gives none; `arrival`:
  // when it was grabbed, in seconds on a monotonic clock.
  bool Sample(std::optional<double> timestamp, double arrival);

  // The source's frame rate on the stream clock (an exponential moving average of
  // 1 / inter-frame time); 0 before the second frame.
  double fps_in() const { return fps_in_; }
  // Seconds of stream time from the first frame to the last, monotonic: the sum of inter-frame
  // times, a discontinuity counting as one frame interval. What trackers and rates measure.
  double elapsed() const { return elapsed_; }

 private:
  double StreamTime(std::optional<double> timestamp, double arrival);

  const int every_n_;
  const double period_;    // seconds between samples (fps mode)
  const double frame_dt_;  // 1 / announced fps
  int64_t index_ = 0;      // frames seen
  std::optional<double> previous_ts_;
  bool timestamps_advance_ = false;
  bool started_ = false;
  double last_t_ = 0;
  double next_due_ = 0;
  double fps_in_ = 0;
  double elapsed_ = 0;
};

}  // namespace stratus::ingest

#endif  // STRATUS_SERVICES_INGEST_FRAME_SAMPLER_H_
