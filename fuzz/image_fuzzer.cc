// Image probe and decode (common/image.h) on arbitrary bytes, as clients send them in
// Image.bytes. Checks: no crash or undefined behaviour; a decoded image is 8-bit RGB with the
// dimensions the probe read (sides swapped when the EXIF orientation turns it), within the limits.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto info = stratus::ProbeImage(bytes);
  stratus::ImageLimits limits;
  limits.max_pixels = 1 << 20;  // decoding big images only slows the search down
  auto image = stratus::DecodeImage(bytes, limits);
  if (image.ok()) {
    const bool as_stored = image->cols == info->width && image->rows == info->height;
    const bool turned = image->cols == info->height && image->rows == info->width;
    if (!info.ok() || image->type() != CV_8UC3 || !(as_stored || turned) ||
        static_cast<int64_t>(image->total()) > limits.max_pixels) {
      abort();
    }
  }
  return 0;
}
