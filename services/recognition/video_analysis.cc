#include "services/recognition/video_analysis.h"

#include <cctype>
#include <cmath>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace stratus::recognition {
namespace {

// The codec's name from its FourCC, as AWS names them ("h264", ...).
std::string CodecName(double fourcc_value) {
  const auto fourcc = static_cast<uint32_t>(fourcc_value);
  std::string tag;
  for (int i = 0; i < 4; ++i) {
    const char c = static_cast<char>((fourcc >> (8 * i)) & 0xFF);
    if (std::isprint(static_cast<unsigned char>(c)) && c != ' ') tag += c;
  }
  const std::string lower = absl::AsciiStrToLower(tag);
  if (lower == "avc1" || lower == "h264" || lower == "x264") return "h264";
  if (lower == "hvc1" || lower == "hev1" || lower == "hevc") return "h265";
  if (lower == "mjpg") return "mjpeg";
  return lower;
}

// AWS's Format strings for the containers it takes; the extension otherwise.
std::string FormatName(const std::string& path) {
  const std::string ext =
      absl::AsciiStrToLower(std::filesystem::path(path).extension().string());
  if (ext == ".mp4" || ext == ".mov" || ext == ".m4v") return "QuickTime / MOV";
  if (ext == ".mkv" || ext == ".webm") return "Matroska / WebM";
  if (ext == ".avi") return "AVI (Audio Video Interleaved)";
  return ext.empty() ? "unknown" : ext.substr(1);
}

}  // namespace

absl::Status AnalyseVideo(
    const std::string& path, const VideoAnalysisOptions& options,
    const std::function<absl::Status(int64_t timestamp_ms, const std::string& jpeg)>& each_frame) {
  cv::VideoCapture capture(path, cv::CAP_FFMPEG);
  if (!capture.isOpened()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the file is not a video this service can decode (", path, ")"));
  }
  const double fps = capture.get(cv::CAP_PROP_FPS);
  const double frames = capture.get(cv::CAP_PROP_FRAME_COUNT);
  stratus::v1::VideoMetadata metadata;
  metadata.set_codec(CodecName(capture.get(cv::CAP_PROP_FOURCC)));
  metadata.set_format(FormatName(path));
  metadata.set_frame_rate(static_cast<float>(fps > 0 ? fps : 0));
  metadata.set_frame_width(static_cast<int64_t>(capture.get(cv::CAP_PROP_FRAME_WIDTH)));
  metadata.set_frame_height(static_cast<int64_t>(capture.get(cv::CAP_PROP_FRAME_HEIGHT)));
  if (fps > 0 && frames > 0) {
    metadata.set_duration_millis(static_cast<int64_t>(std::llround(frames / fps * 1000)));
  }
  if (options.on_open) options.on_open(metadata);

  const double period_ms = 1000.0 / options.sample_fps;
  double next_ms = 0;
  int64_t decoded = 0;
  cv::Mat frame;
  std::vector<uchar> jpeg;
  while (capture.read(frame)) {
    if (options.keep_going && !options.keep_going()) {
      return absl::CancelledError("the analysis was stopped");
    }
    // The frame's presentation time; its index over the frame rate where the container gives
    // none.
    double ms = capture.get(cv::CAP_PROP_POS_MSEC);
    if (!(ms > 0) && decoded > 0 && fps > 0) ms = decoded * 1000.0 / fps;
    ++decoded;
    if (ms + 0.5 < next_ms) continue;
    next_ms += period_ms;
    if (next_ms <= ms) next_ms = ms + period_ms;  // a gap in the timestamps: start again from it
    if (!cv::imencode(".jpg", frame, jpeg, {cv::IMWRITE_JPEG_QUALITY, 92})) {
      return absl::InternalError(absl::StrCat("cannot encode the frame at ", ms, " ms"));
    }
    absl::Status s = each_frame(static_cast<int64_t>(std::llround(ms)),
                                std::string(jpeg.begin(), jpeg.end()));
    if (!s.ok()) return s;
  }
  if (decoded == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("no frame of the file could be decoded (", path, ")"));
  }
  return absl::OkStatus();
}

}  // namespace stratus::recognition
