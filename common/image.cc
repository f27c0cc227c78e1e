#include "common/image.h"

#include <fstream>
#include <utility>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace stratus {
namespace {

uint32_t Be16(const unsigned char* p) { return (p[0] << 8) | p[1]; }
uint32_t Be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

absl::StatusOr<ImageInfo> ProbeJpeg(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  size_t i = 2;
  while (i + 4 <= n) {
    if (p[i] != 0xFF) {
      return absl::InvalidArgumentError(
          absl::StrCat("not a valid JPEG: expected a marker at byte ", i));
    }
    unsigned char marker = p[i + 1];
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
      i += 2;
      continue;
    }
    uint32_t len = Be16(p + i + 2);
    if (len < 2) return absl::InvalidArgumentError("not a valid JPEG: bad segment length");
    bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
               marker != 0xCC;
    if (sof) {
      if (i + 9 > n) break;
      ImageInfo info{ImageFormat::kJpeg, static_cast<int>(Be16(p + i + 7)),
                     static_cast<int>(Be16(p + i + 5))};
      return info;
    }
    if (marker == 0xDA) break;  // start of scan before any frame header
    i += 2 + len;
  }
  return absl::InvalidArgumentError(
      "image is truncated or not a valid JPEG: no frame header found");
}

absl::StatusOr<ImageInfo> ProbePng(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 33 || std::string_view(bytes.data() + 12, 4) != "IHDR") {
    return absl::InvalidArgumentError("image is truncated or not a valid PNG: no IHDR chunk");
  }
  uint32_t w = Be32(p + 16), h = Be32(p + 20);
  if (w > 0x7FFFFFFF || h > 0x7FFFFFFF) {
    return absl::InvalidArgumentError("not a valid PNG: dimensions out of range");
  }
  return ImageInfo{ImageFormat::kPng, static_cast<int>(w), static_cast<int>(h)};
}

absl::Status CheckComplete(std::string_view bytes, ImageFormat format) {
  if (format == ImageFormat::kJpeg) {
    // Entropy-coded data never holds FF D9 (0xFF is stuffed), so a complete JPEG has its
    // end-of-image marker near the end; some writers append padding or metadata after it.
    size_t from = bytes.size() > 4096 ? bytes.size() - 4096 : 0;
    if (bytes.substr(from).find("\xFF\xD9") == std::string_view::npos) {
      return absl::InvalidArgumentError(
          "image is truncated: JPEG data ends without an end-of-image marker");
    }
  } else {
    size_t from = bytes.size() > 64 ? bytes.size() - 64 : 0;
    if (bytes.substr(from).find("IEND") == std::string_view::npos) {
      return absl::InvalidArgumentError("image is truncated: PNG data ends without an IEND chunk");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ImageInfo> ProbeImage(std::string_view bytes) {
  if (bytes.empty()) return absl::InvalidArgumentError("image is empty (0 bytes)");
  if (bytes.size() >= 3 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
      static_cast<unsigned char>(bytes[1]) == 0xD8 && static_cast<unsigned char>(bytes[2]) == 0xFF) {
    return ProbeJpeg(bytes);
  }
  if (bytes.size() >= 8 && bytes.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) {
    return ProbePng(bytes);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "not an image: unrecognised format in ", bytes.size(),
      " bytes (JPEG and PNG are supported)"));
}

absl::StatusOr<cv::Mat> DecodeImage(std::string_view bytes, const ImageLimits& limits) {
  if (bytes.size() > limits.max_bytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "image is %d bytes; the limit is %d bytes", bytes.size(), limits.max_bytes));
  }
  auto info = ProbeImage(bytes);
  if (!info.ok()) return info.status();
  const int64_t pixels = int64_t{info->width} * info->height;
  if (info->width < limits.min_dimension || info->height < limits.min_dimension) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "image is %dx%d pixels; both sides must be at least %d", info->width, info->height,
        limits.min_dimension));
  }
  if (info->width > limits.max_dimension || info->height > limits.max_dimension ||
      pixels > limits.max_pixels) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "image is %dx%d pixels (%.1f megapixels); the limits are %d pixels a side and %.1f "
        "megapixels",
        info->width, info->height, pixels / 1e6, limits.max_dimension, limits.max_pixels / 1e6));
  }
  if (auto s = CheckComplete(bytes, info->format); !s.ok()) return s;
  cv::Mat decoded;
  try {
    cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1,
                const_cast<char*>(bytes.data()));
    decoded = cv::imdecode(raw, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("image could not be decoded: ", e.what()));
  }
  if (decoded.empty()) {
    return absl::InvalidArgumentError("image could not be decoded: corrupt image data");
  }
  // BGR to RGB in place: cv::cvtColor copies its source when asked to work in place, and a
  // second full-size buffer would double the peak memory of every decode.
  for (int y = 0; y < decoded.rows; ++y) {
    uchar* p = decoded.ptr<uchar>(y);
    for (int x = 0; x < decoded.cols; ++x, p += 3) std::swap(p[0], p[2]);
  }
  return decoded;
}

absl::StatusOr<std::string> ReadImageFile(std::string_view path_or_uri, size_t max_bytes) {
  std::string path(path_or_uri);
  if (path.rfind("file://", 0) == 0) path = path.substr(7);
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open image file ", path));
  auto size = static_cast<size_t>(in.tellg());
  if (size > max_bytes) {
    return absl::InvalidArgumentError(absl::StrFormat("image file %s is %d bytes; the limit is %d",
                                                      path, size, max_bytes));
  }
  std::string bytes(size, '\0');
  in.seekg(0);
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  return bytes;
}

}  // namespace stratus
