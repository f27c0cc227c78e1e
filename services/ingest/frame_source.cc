#include "services/ingest/frame_source.h"

#include <cstdlib>
#include <mutex>
#include <opencv2/videoio.hpp>

#include "absl/strings/str_cat.h"

namespace stratus::ingest {
namespace {

// OpenCV's FFmpeg backend reads capture options from one process-wide variable.
std::mutex g_open_mu;

bool IsFile(const std::string& uri) {
  return uri.find("://") == std::string::npos || uri.rfind("file://", 0) == 0;
}

class OpenCvSource : public FrameSource {
 public:
  OpenCvSource(std::unique_ptr<cv::VideoCapture> cap, bool file)
      : cap_(std::move(cap)), file_(file) {}
  bool Grab() override { return cap_->grab(); }
  bool Retrieve(cv::Mat* bgr) override { return cap_->retrieve(*bgr); }
  // OpenCV's FFmpeg backend: the grabbed frame's pts (best effort, else its dts) less the
  // stream's start time, in ms; 0 when the frame has neither.
  std::optional<double> timestamp() override { return cap_->get(cv::CAP_PROP_POS_MSEC) / 1000; }
  double fps() override { return cap_->get(cv::CAP_PROP_FPS); }
  bool needs_pacing() override { return file_; }

 private:
  std::unique_ptr<cv::VideoCapture> cap_;
  bool file_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<FrameSource>> OpenFrameSource(const v1::StreamConfig& config) {
  const std::string& uri = config.uri();
  auto cap = std::make_unique<cv::VideoCapture>();
  std::lock_guard<std::mutex> lock(g_open_mu);
  const char* transport = config.transport() == v1::StreamConfig::UDP   ? "rtsp_transport;udp"
                          : config.transport() == v1::StreamConfig::TCP ? "rtsp_transport;tcp"
                                                                        : nullptr;
  if (transport != nullptr) {
    setenv("OPENCV_FFMPEG_CAPTURE_OPTIONS", transport, 1);
  } else {
    unsetenv("OPENCV_FFMPEG_CAPTURE_OPTIONS");
  }
  std::string error;
  try {
    cap->open(uri.rfind("file://", 0) == 0 ? uri.substr(7) : uri, cv::CAP_FFMPEG,
              {cv::CAP_PROP_OPEN_TIMEOUT_MSEC, 10000, cv::CAP_PROP_READ_TIMEOUT_MSEC, 10000});
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!cap->isOpened()) {
    return absl::UnavailableError(
        absl::StrCat("cannot open ", uri, error.empty() ? "" : ": ", error));
  }
  return std::make_unique<OpenCvSource>(std::move(cap), IsFile(uri));
}

}  // namespace stratus::ingest
