#include "services/ingest/testing/faulty_source.h"

#include <new>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

namespace stratus::ingest::testing_util {
namespace {

class FaultySource : public FrameSource {
 public:
  explicit FaultySource(FaultySourceOptions options) : options_(std::move(options)) {}

  bool Grab() override {
    if (next_ >= options_.frames) return false;
    current_ = next_++;
    if (options_.fault(current_) == Fault::kThrowOnRead) {
      throw std::runtime_error("demuxer lost sync");
    }
    return true;
  }

  bool Retrieve(cv::Mat* bgr) override {
    switch (options_.fault(current_)) {
      case Fault::kThrowOnDecode:
        throw std::bad_alloc();
      case Fault::kUndecodable:
        return false;
      case Fault::kOddPixels:
        *bgr = cv::Mat(180, 320, CV_8UC2, cv::Scalar(30, 30));
        return true;
      default:
        break;
    }
    cv::Mat frame(180, 320, CV_8UC3, cv::Scalar(30, 30, 30));
    if (current_ < options_.crossing_frames) {
      int x = 10 + (320 - 60) * current_ / std::max(1, options_.crossing_frames - 1);
      cv::rectangle(frame, cv::Rect(x, 50, 40, 80), cv::Scalar(255, 255, 255), cv::FILLED);
    }
    *bgr = frame;
    return true;
  }

  double fps() override { return options_.fps; }
  bool needs_pacing() override { return true; }

 private:
  FaultySourceOptions options_;
  int next_ = 0;
  int current_ = -1;
};

}  // namespace

FrameSourceOpener FaultySourceOpener(FaultySourceOptions options) {
  return [options](const v1::StreamConfig&) -> absl::StatusOr<std::unique_ptr<FrameSource>> {
    return std::make_unique<FaultySource>(options);
  };
}

}  // namespace stratus::ingest::testing_util
