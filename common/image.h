// Image decoding for every service that takes pictures. Accepts JPEG and PNG (the formats
// Rekognition takes), checks the declared size in the header before decoding anything (so a
// 50-byte file claiming 100k x 100k pixels is refused without allocating), detects truncated
// files, and returns 8-bit RGB.
//
// Every refusal is INVALID_ARGUMENT with a message that says what was wrong, e.g.
// "image is truncated: JPEG data ends without an end-of-image marker" or
// "image is 40000x30000 pixels (1200.0 megapixels); the limit is 40.0 megapixels".
// Thread-safe.
#ifndef STRATUS_COMMON_IMAGE_H_
#define STRATUS_COMMON_IMAGE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include <opencv2/core/mat.hpp>

#include "absl/status/statusor.h"

namespace stratus {

// Image.bytes (an image sent inline) is at most this long, as in Rekognition; one sent by
// reference (Image.uri, S3Object) may be ImageLimits::max_bytes.
inline constexpr size_t kMaxInlineImageBytes = 5 * 1024 * 1024;

struct ImageLimits {
  size_t max_bytes = 15 << 20;     // encoded size; Rekognition takes 5 MB as bytes, 15 MB via S3
  int max_dimension = 16384;       // widest side, pixels
  int64_t max_pixels = 40'000'000; // width x height
  int min_dimension = 1;           // narrowest side, pixels (Rekognition's faces need 80)
};

enum class ImageFormat { kJpeg, kPng };

struct ImageInfo {
  ImageFormat format;
  int width = 0;
  int height = 0;
};

// Reads the format and the dimensions stored in the header without decoding. A JPEG's EXIF
// orientation is not applied here: for orientations 5 to 8 the decoded image has width and
// height swapped (the limits below do not depend on which side is which).
absl::StatusOr<ImageInfo> ProbeImage(std::string_view bytes);

// Probes, checks the limits, decodes, and returns an 8-bit, 3-channel RGB image, turned upright
// by the EXIF orientation as Rekognition does, so coordinates refer to the upright image.
absl::StatusOr<cv::Mat> DecodeImage(std::string_view bytes, const ImageLimits& limits = {});

// Reads a local file (a path or a file:// URI) for decoding. NOT_FOUND when it does not exist.
absl::StatusOr<std::string> ReadImageFile(std::string_view path_or_uri, size_t max_bytes);

}  // namespace stratus

#endif  // STRATUS_COMMON_IMAGE_H_
