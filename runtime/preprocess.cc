#include "runtime/preprocess.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"

namespace stratus::runtime {
namespace {

// JavaScript's Math.round for non-negative values.
int JsRound(double v) { return static_cast<int>(std::floor(v + 0.5)); }

// The padded canvas the image is placed on before resizing (pad policies), or the image itself.
struct Canvas {
  int width, height;  // canvas size in image pixels
  int x, y;           // where the image's top-left lies on the canvas
};

Canvas ComputeCanvas(int w, int h, const InputSpec& spec) {
  if (spec.resize == ResizePolicy::kStretch) return Canvas{w, h, 0, 0};
  // Smallest canvas of the input's aspect ratio that holds the image (a square for face-api).
  int cw = w, ch = h;
  if (static_cast<int64_t>(w) * spec.height >= static_cast<int64_t>(h) * spec.width) {
    ch = std::max(h, JsRound(static_cast<double>(w) * spec.height / spec.width));
  } else {
    cw = std::max(w, JsRound(static_cast<double>(h) * spec.width / spec.height));
  }
  Canvas c{cw, ch, 0, 0};
  if (spec.resize != ResizePolicy::kPadBottomRight) {
    // face-api's padToSquare(isCenterImage=true): round(diff/2) appended, the rest prepended.
    const int dx = cw - w, dy = ch - h;
    c.x = dx - JsRound(dx * 0.5);
    c.y = dy - JsRound(dy * 0.5);
  }
  return c;
}

// One axis of the resampling: for output index o, the two source indices on the canvas (already
// mapped to image indices, -1 when in the padding) and the weight of the second.
struct Tap {
  int i0, i1;
  float frac;
};

std::vector<Tap> ComputeTaps(int out_size, int canvas_size, int image_offset, int image_size,
                             Interpolation interp) {
  std::vector<Tap> taps(static_cast<size_t>(out_size));
  // TF computes the scale and the source coordinates in float32.
  const float scale = static_cast<float>(canvas_size) / static_cast<float>(out_size);
  auto to_image = [&](int c) {
    const int i = c - image_offset;
    return (i >= 0 && i < image_size) ? i : -1;
  };
  for (int o = 0; o < out_size; ++o) {
    int c0, c1;
    float frac = 0;
    if (interp == Interpolation::kTfBilinear) {
      const float src = scale * static_cast<float>(o);
      c0 = static_cast<int>(std::floor(src));
      frac = src - static_cast<float>(c0);
      c1 = std::min(canvas_size - 1, static_cast<int>(std::ceil(src)));
    } else if (interp == Interpolation::kBilinear) {
      float src = (static_cast<float>(o) + 0.5f) * scale - 0.5f;
      if (src < 0) src = 0;
      c0 = static_cast<int>(std::floor(src));
      frac = src - static_cast<float>(c0);
      if (c0 >= canvas_size - 1) {
        c0 = canvas_size - 1;
        frac = 0;
      }
      c1 = std::min(canvas_size - 1, c0 + 1);
    } else {  // nearest
      c0 = std::min(canvas_size - 1, static_cast<int>(std::floor(scale * static_cast<float>(o))));
      c1 = c0;
    }
    c0 = std::min(c0, canvas_size - 1);
    taps[static_cast<size_t>(o)] = Tap{to_image(c0), to_image(c1), frac};
  }
  return taps;
}

}  // namespace

InputGeometry ComputeGeometry(int image_width, int image_height, const InputSpec& spec) {
  InputGeometry g;
  g.image_width = image_width;
  g.image_height = image_height;
  g.input_width = spec.width;
  g.input_height = spec.height;
  const Canvas c = ComputeCanvas(image_width, image_height, spec);
  const double sx = static_cast<double>(spec.width) / c.width;
  const double sy = static_cast<double>(spec.height) / c.height;
  switch (spec.resize) {
    case ResizePolicy::kStretch:
      g.scale_x = sx;
      g.scale_y = sy;
      break;
    case ResizePolicy::kPadBottomRight:
      // As face-api's SsdMobilenetv1.locateFaces: the content size in input pixels is rounded
      // (NetInput.getReshapedInputDimensions).
      g.scale_x = static_cast<double>(JsRound(image_width * sx)) / image_width;
      g.scale_y = static_cast<double>(JsRound(image_height * sy)) / image_height;
      break;
    case ResizePolicy::kPadCenter:
    case ResizePolicy::kLetterbox:
      // As face-api's FaceLandmark68NetBase.postProcess: half the (unrounded) padding.
      g.scale_x = sx;
      g.scale_y = sy;
      g.offset_x = (c.width - image_width) * sx / 2;
      g.offset_y = (c.height - image_height) * sy / 2;
      break;
  }
  return g;
}

absl::Status PreprocessImage(const cv::Mat& rgb, const InputSpec& spec, Layout layout,
                             float* out, InputGeometry* geometry) {
  if (rgb.empty() || rgb.cols <= 0 || rgb.rows <= 0) {
    return absl::InvalidArgumentError("empty image");
  }
  if (rgb.type() != CV_8UC3) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected an 8-bit 3-channel RGB image, got OpenCV type ", rgb.type()));
  }
  const int w = rgb.cols, h = rgb.rows;
  const int ow = spec.width, oh = spec.height;
  const Canvas c = ComputeCanvas(w, h, spec);
  if (geometry != nullptr) *geometry = ComputeGeometry(w, h, spec);
  const std::vector<Tap> xs = ComputeTaps(ow, c.width, c.x, w, spec.interpolation);
  const std::vector<Tap> ys = ComputeTaps(oh, c.height, c.y, h, spec.interpolation);

  // Source channel for each model channel, and the normalisation.
  int src_ch[3];
  float mean[3], stdv[3];
  for (int k = 0; k < 3; ++k) {
    src_ch[k] = spec.bgr ? 2 - k : k;
    mean[k] = spec.mean[static_cast<size_t>(k)];
    stdv[k] = spec.std[static_cast<size_t>(k)];
  }
  const float pad = spec.pad_value;
  const size_t plane = static_cast<size_t>(ow) * static_cast<size_t>(oh);

  for (int oy = 0; oy < oh; ++oy) {
    const Tap& ty = ys[static_cast<size_t>(oy)];
    const uint8_t* r0 = ty.i0 >= 0 ? rgb.ptr<uint8_t>(ty.i0) : nullptr;
    const uint8_t* r1 = ty.i1 >= 0 ? rgb.ptr<uint8_t>(ty.i1) : nullptr;
    const float fy = ty.frac;
    for (int ox = 0; ox < ow; ++ox) {
      const Tap& tx = xs[static_cast<size_t>(ox)];
      const float fx = tx.frac;
      for (int k = 0; k < 3; ++k) {
        const int ch = src_ch[k];
        const float tl = (r0 && tx.i0 >= 0) ? r0[tx.i0 * 3 + ch] : pad;
        const float tr = (r0 && tx.i1 >= 0) ? r0[tx.i1 * 3 + ch] : pad;
        const float bl = (r1 && tx.i0 >= 0) ? r1[tx.i0 * 3 + ch] : pad;
        const float br = (r1 && tx.i1 >= 0) ? r1[tx.i1 * 3 + ch] : pad;
        // The order of operations of TF's ResizeBilinear kernel.
        const float top = tl + (tr - tl) * fx;
        const float bottom = bl + (br - bl) * fx;
        const float v = top + (bottom - top) * fy;
        const float n = (v - mean[k]) / stdv[k];
        const size_t pix = static_cast<size_t>(oy) * static_cast<size_t>(ow) + static_cast<size_t>(ox);
        if (layout == Layout::kNCHW) {
          out[static_cast<size_t>(k) * plane + pix] = n;
        } else {
          out[pix * 3 + static_cast<size_t>(k)] = n;
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace stratus::runtime
