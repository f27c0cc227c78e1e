// Where a stream's frames come from. OpenFrameSource() opens a URI through OpenCV's FFmpeg
// backend (RTSP over TCP or UDP as the config asks, HTTP MJPEG/MPEG-TS/HLS, files); tests give a
// StreamWorker their own FrameSource instead (WorkerDeps::open_source).
//
// Grab() and Retrieve() may throw (OpenCV and FFmpeg do on odd input, and a decoder may run
// out of memory): the caller catches, per frame. Not thread-safe; one capture thread uses one
// source.
#ifndef STRATUS_SERVICES_INGEST_FRAME_SOURCE_H_
#define STRATUS_SERVICES_INGEST_FRAME_SOURCE_H_

#include <functional>
#include <memory>
#include <opencv2/core.hpp>
#include <optional>

#include "absl/status/statusor.h"
#include "stratus/v1/ingest.pb.h"

namespace stratus::ingest {

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  // Reads the next frame without decoding it. False at the end of the source or when it
  // stopped sending.
  virtual bool Grab() = 0;
  // Decodes the frame last grabbed. False (or an empty image) when it cannot be decoded.
  virtual bool Retrieve(cv::Mat* bgr) = 0;
  // The presentation time of the frame last grabbed, in seconds on the stream's clock (from the
  // container: the camera's time, not when the frame arrived); nullopt when the source gives
  // none. The sampler (frame_sampler.h) copes with a clock that starts anywhere, jumps or
  // reports 0 for every frame.
  virtual std::optional<double> timestamp() { return std::nullopt; }
  // Frames per second the source announces; 0 when it does not say.
  virtual double fps() = 0;
  // True for sources read faster than real time (files), which the worker paces.
  virtual bool needs_pacing() = 0;
};

// Opens a stream's source. UNAVAILABLE (with the URI) when it cannot be opened.
using FrameSourceOpener =
    std::function<absl::StatusOr<std::unique_ptr<FrameSource>>(const v1::StreamConfig&)>;

// The OpenCV/FFmpeg opener (10 s open and read timeouts). Thread-safe.
absl::StatusOr<std::unique_ptr<FrameSource>> OpenFrameSource(const v1::StreamConfig& config);

}  // namespace stratus::ingest

#endif  // STRATUS_SERVICES_INGEST_FRAME_SOURCE_H_
