#include "services/ingest/frame_sampler.h"

#include <cmath>

namespace stratus::ingest {

FrameSampler::FrameSampler(int every_n, double fps, double announced_fps)
    : every_n_(every_n),
      period_(fps > 0 ? 1.0 / fps : 0.2),
      frame_dt_(announced_fps > 0 && announced_fps < 240 ? 1.0 / announced_fps : 1.0 / 25) {}

double FrameSampler::StreamTime(std::optional<double> timestamp, double arrival) {
  if (timestamp && std::isfinite(*timestamp)) {
    if (previous_ts_ && *timestamp > *previous_ts_) timestamps_advance_ = true;
    previous_ts_ = timestamp;
    if (timestamps_advance_) return *timestamp;
  }
  return arrival;
}

bool FrameSampler::Sample(std::optional<double> timestamp, double arrival) {
  ++index_;
  const double t = StreamTime(timestamp, arrival);
  if (!started_) {
    started_ = true;
    last_t_ = t;
    next_due_ = t + period_;
    return every_n_ > 0 ? index_ % every_n_ == 0 : true;
  }
  const double dt = t - last_t_;
  if (dt > 0 && dt <= kMaxGap) fps_in_ = fps_in_ == 0 ? 1 / dt : fps_in_ * 0.8 + 0.2 / dt;
  const bool discontinuity = dt < -1 || dt > kMaxGap;
  elapsed_ += dt >= 0 && !discontinuity ? dt : frame_dt_;
  last_t_ = t;
  if (every_n_ > 0) return index_ % every_n_ == 0;
  if (discontinuity) {
    next_due_ = t + period_;
    return true;
  }
  // Half a frame of slack: timestamps jitter, and 5 x 0.04 need not reach 0.2 exactly.
  if (t + frame_dt_ / 2 < next_due_) return false;
  next_due_ += period_;
  // Behind by more than a period (frames were missing): the next sample is one period on.
  if (next_due_ <= t) next_due_ = t + period_;
  return true;
}

}  // namespace stratus::ingest
