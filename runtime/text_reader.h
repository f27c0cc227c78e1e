// TextReader: reads printed text in an image with Tesseract 5 (LINE and WORD detections with
// confidence 0-100, axis-aligned boxes and 4-point polygons in pixels of the given image).
// The polygon is the box turned to the baseline Tesseract reports (top-left, top-right,
// bottom-right, bottom-left of the text); the axis-aligned box's corners when the baseline is
// level or its angle cannot be fitted.
//
// Thread-safe: a fixed pool of TessBaseAPI instances, each used by one thread at a time; a call
// waits for a free instance. Preprocessing (grey, upscaling of small images, Otsu binarisation,
// dark text on light) runs before recognition when Options::preprocess is set.
// Errors: FAILED_PRECONDITION at Create when the tessdata folder or language is missing;
// INVALID_ARGUMENT for an empty image.
#ifndef STRATUS_RUNTIME_TEXT_READER_H_
#define STRATUS_RUNTIME_TEXT_READER_H_

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "opencv2/core.hpp"

namespace stratus::runtime {

struct TextDetection {
  enum class Type { kLine, kWord };
  Type type = Type::kWord;
  std::string text;
  float confidence = 0;  // 0-100
  cv::Rect box;          // pixels of the input image
  std::array<cv::Point2f, 4> polygon;  // pixels; see the file comment
  int id = 0;
  int parent_id = -1;  // a word's line; -1 for lines
};

// The polygon of text whose axis-aligned box is `box` and whose baseline runs at `angle`
// radians (image coordinates, y down; positive = clockwise on screen): the rectangle at that
// angle, centred in the box, whose corners touch the box's sides. The box's own corners when
// |angle| is under 1 degree or no such rectangle fits (|angle| near 45 degrees, or a box too
// thin for the angle).
std::array<cv::Point2f, 4> TextPolygon(const cv::Rect2f& box, double angle);

class TextReader {
 public:
  struct Options {
    std::string tessdata_dir;  // "": Tesseract's default ($TESSDATA_PREFIX or its build's)
    std::string language = "eng";
    int instances = 2;       // Tesseract engines in the pool
    bool preprocess = true;  // upscaling and binarisation before recognition
    int max_words = 100;     // AWS DetectText limits
    int max_lines = 50;
  };
  static absl::StatusOr<std::unique_ptr<TextReader>> Create(const Options& options);
  ~TextReader();

  // bgr: 8-bit, 1 or 3 channels.
  absl::StatusOr<std::vector<TextDetection>> Read(const cv::Mat& bgr);

 private:
  struct Pool;
  explicit TextReader(const Options& options);
  Options options_;
  std::unique_ptr<Pool> pool_;
};

}  // namespace stratus::runtime

#endif  // STRATUS_RUNTIME_TEXT_READER_H_
