// One video file through the image operations, for stored-video jobs (video_jobs.h): decodes it
// with OpenCV (FFmpeg), samples frames on their presentation timestamps at `sample_fps`, and
// hands each sampled frame to `each_frame` as a JPEG with its timestamp in milliseconds from
// the start, as fast as decoding and analysis go (not in real time).
#ifndef STRATUS_SERVICES_RECOGNITION_VIDEO_ANALYSIS_H_
#define STRATUS_SERVICES_RECOGNITION_VIDEO_ANALYSIS_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "stratus/v1/recognition.pb.h"

namespace stratus::recognition {

struct VideoAnalysisOptions {
  double sample_fps = 5;  // > 0
  // Asked between frames; false stops the analysis with CANCELLED.
  std::function<bool()> keep_going;
  // Called once the file is open, with what it says of itself (before any frame).
  std::function<void(const stratus::v1::VideoMetadata&)> on_open;
};

// INVALID_ARGUMENT when the file cannot be opened or decoded as video (the message says which),
// CANCELLED when keep_going said stop, or the first error of `each_frame`.
absl::Status AnalyseVideo(
    const std::string& path, const VideoAnalysisOptions& options,
    const std::function<absl::Status(int64_t timestamp_ms, const std::string& jpeg)>& each_frame);

}  // namespace stratus::recognition

#endif  // STRATUS_SERVICES_RECOGNITION_VIDEO_ANALYSIS_H_
