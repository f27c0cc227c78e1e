// TextReader: reads printed text in an image with Tesseract 5 (LINE and WORD detections with
// confidence 0-100 and axis-aligned boxes in pixels of the given image).
//
// Thread-safe: a fixed pool of TessBaseAPI instances, each used by one thread at a time; a call
// waits for a free instance. Preprocessing (grey, upscaling of small images, Otsu binarisation,
// dark text on light) runs before recognition when Options::preprocess is set.
// Errors: FAILED_PRECONDITION at Create when the tessdata folder or language is missing;
// INVALID_ARGUMENT for an empty image.
#ifndef STRATUS_RUNTIME_TEXT_READER_H_
#define STRATUS_RUNTIME_TEXT_READER_H_

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
  int id = 0;
  int parent_id = -1;  // a word's line; -1 for lines
};

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
