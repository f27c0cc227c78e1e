#include "training/mask_synth.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <random>
#include <vector>

namespace stratus::training {
namespace {

struct MaskShape {
  std::vector<cv::Point> outline;  // closed polygon, image pixels
  cv::Rect2d box;                  // the mask's extent (for shading and pleats)
  double tilt = 0;                 // pixels the pleats drop from left to right
  cv::Point ear_left_from, ear_left_to, ear_right_from, ear_right_to;  // ear loops
};

// Paints a surgical or cloth mask over `shape` on a copy of `image`.
cv::Mat PaintMask(const cv::Mat& image, const MaskShape& shape, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const int w = image.cols;
  const int h = image.rows;
  const cv::Rect2d& b = shape.box;
  // Colour: surgical blue, white, black, or a random cloth colour (BGR).
  cv::Scalar colour;
  const double pick = u(rng);
  if (pick < 0.4) {
    colour = cv::Scalar(225 + 20 * u(rng), 190 + 25 * u(rng), 140 + 30 * u(rng));
  } else if (pick < 0.6) {
    const double g = 215 + 35 * u(rng);
    colour = cv::Scalar(g, g, g);
  } else if (pick < 0.8) {
    const double g = 25 + 35 * u(rng);
    colour = cv::Scalar(g, g, g);
  } else {
    colour = cv::Scalar(255 * u(rng), 255 * u(rng), 255 * u(rng));
  }
  cv::Mat layer(h, w, CV_8UC3, colour);
  // Shading: darker towards the mask's sides and bottom, as a curved surface is lit.
  cv::Mat shade(h, w, CV_32F);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const double dx = (x - (b.x + b.width / 2)) / std::max(1.0, b.width / 2);
      const double dy = std::clamp((y - b.y) / std::max(1.0, b.height), 0.0, 1.0);
      shade.at<float>(y, x) = static_cast<float>(std::max(0.5, 1.0 - 0.22 * dx * dx - 0.10 * dy));
    }
  }
  std::vector<cv::Mat> ch;
  cv::split(layer, ch);
  for (auto& c : ch) {
    c.convertTo(c, CV_32F);
    c = c.mul(shade);
    c.convertTo(c, CV_8U);
  }
  cv::merge(ch, layer);
  // Pleats of a surgical mask; a seam for cloth masks.
  const cv::Scalar line_colour = colour * 0.8;
  const int thickness = std::max(1, static_cast<int>(b.height / 40));
  if (pick < 0.6) {
    for (int k = 1; k <= 3; ++k) {
      const double y = b.y + b.height * (0.2 + 0.22 * k);
      cv::line(layer, {static_cast<int>(b.x), static_cast<int>(y)},
               {static_cast<int>(b.x + b.width), static_cast<int>(y + shape.tilt)}, line_colour,
               thickness, cv::LINE_AA);
    }
  } else {
    const int cx = static_cast<int>(b.x + b.width / 2);
    cv::line(layer, {cx, static_cast<int>(b.y - 0.1 * b.height)},
             {cx, static_cast<int>(b.y + b.height)}, line_colour, thickness, cv::LINE_AA);
  }
  // Fabric noise (a seeded OpenCV generator: the global one is not reproducible).
  cv::Mat noise(h, w, CV_16SC3);
  cv::RNG cv_rng(rng());
  cv_rng.fill(noise, cv::RNG::NORMAL, 0, 6);
  cv::Mat noisy;
  cv::add(layer, noise, noisy, cv::noArray(), CV_8U);
  // Composite inside the outline, edges softened by one pixel.
  cv::Mat mask = cv::Mat::zeros(h, w, CV_8U);
  cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{shape.outline}, cv::Scalar(255),
               cv::LINE_AA);
  cv::GaussianBlur(mask, mask, cv::Size(3, 3), 0);
  cv::Mat out = image.clone();
  for (int y = 0; y < h; ++y) {
    const uint8_t* m = mask.ptr<uint8_t>(y);
    const cv::Vec3b* src = noisy.ptr<cv::Vec3b>(y);
    cv::Vec3b* dst = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < w; ++x) {
      if (m[x] == 0) continue;
      const float a = m[x] / 255.0f;
      for (int k = 0; k < 3; ++k) {
        dst[x][k] = cv::saturate_cast<uint8_t>(dst[x][k] * (1 - a) + src[x][k] * a);
      }
    }
  }
  const cv::Scalar loop = pick < 0.6 ? cv::Scalar(235, 235, 235) : colour * 0.9;
  cv::line(out, shape.ear_left_from, shape.ear_left_to, loop, thickness, cv::LINE_AA);
  cv::line(out, shape.ear_right_from, shape.ear_right_to, loop, thickness, cv::LINE_AA);
  return out;
}

}  // namespace

cv::Mat DrawSyntheticMask(const cv::Mat& face, MaskPlacement placement, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const int w = face.cols;
  const int h = face.rows;
  double top = 0;
  switch (placement) {
    case MaskPlacement::kBelowNose:
      top = 0.64 + 0.06 * u(rng);
      break;
    case MaskPlacement::kOnChin:
      top = 0.80 + 0.06 * u(rng);
      break;
    case MaskPlacement::kCorrect:
      top = 0.40 + 0.07 * u(rng);
      break;
  }
  const double left = 0.12 + 0.08 * u(rng);
  const double right = 0.88 - 0.08 * u(rng);
  const double bottom =
      std::min(1.02, (placement == MaskPlacement::kOnChin ? 1.04 : 0.97) + 0.04 * u(rng));
  const double tilt = (u(rng) - 0.5) * 0.06;  // fraction of the height across the width
  // Outline: a curved top edge (higher in the middle), straight-ish sides, rounded bottom.
  MaskShape shape;
  const int steps = 24;
  for (int i = 0; i <= steps; ++i) {
    const double t = static_cast<double>(i) / steps;
    const double x = left + (right - left) * t;
    const double y = top - 0.04 * std::sin(M_PI * t) + tilt * (t - 0.5);
    shape.outline.emplace_back(static_cast<int>(x * w), static_cast<int>(y * h));
  }
  for (int i = 0; i <= steps; ++i) {
    const double t = static_cast<double>(i) / steps;
    const double x = right - (right - left) * t;
    const double y = bottom - 0.06 + 0.06 * std::sin(M_PI * t) + tilt * (0.5 - t);
    shape.outline.emplace_back(static_cast<int>(x * w), static_cast<int>(y * h));
  }
  shape.box = cv::Rect2d(left * w, top * h, (right - left) * w, (bottom - top) * h);
  shape.tilt = tilt * h;
  const int ly = static_cast<int>((top + 0.03) * h);
  shape.ear_left_from = {static_cast<int>(left * w), ly};
  shape.ear_left_to = {0, static_cast<int>((top - 0.12) * h)};
  shape.ear_right_from = {static_cast<int>(right * w), ly};
  shape.ear_right_to = {w - 1, static_cast<int>((top - 0.12) * h)};
  return PaintMask(face, shape, rng);
}

cv::Mat DrawSyntheticMaskOnLandmarks(const cv::Mat& image, const std::vector<cv::Point2f>& p,
                                     MaskPlacement placement, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  // The jaw (0..16) pushed out a little from the face centre: a mask stands off the skin.
  const cv::Point2f centre = (p[30] + p[8]) * 0.5f;
  auto out_from_centre = [&](const cv::Point2f& q, float k) { return centre + (q - centre) * k; };
  // Top edge height and the jaw points it joins.
  float top_y = 0;
  int side = 0;  // jaw index where the top edge meets the jaw on the left (16 - side on the right)
  switch (placement) {
    case MaskPlacement::kCorrect:  // across the nose bridge
      top_y = p[28].y + static_cast<float>(u(rng) * 0.5) * (p[29].y - p[28].y);
      side = 1;
      break;
    case MaskPlacement::kBelowNose:  // just under the nose base, above the upper lip
      top_y = p[33].y + static_cast<float>(0.15 + 0.3 * u(rng)) * (p[51].y - p[33].y);
      side = 3;
      break;
    case MaskPlacement::kOnChin:  // under the lower lip
      top_y = p[57].y + static_cast<float>(0.1 + 0.3 * u(rng)) * (p[8].y - p[57].y);
      side = 5;
      break;
  }
  const float face_w = cv::norm(p[16] - p[0]);
  MaskShape shape;
  // Top edge from the left jaw point to the right one, arched up by a little in the middle.
  const cv::Point2f l = out_from_centre(p[side], 1.08f);
  const cv::Point2f r = out_from_centre(p[16 - side], 1.08f);
  const int steps = 16;
  for (int i = 0; i <= steps; ++i) {
    const float t = static_cast<float>(i) / steps;
    const float x = l.x + (r.x - l.x) * t;
    const float edge_y = (l.y + (r.y - l.y) * t) * 0.3f + top_y * 0.7f;
    const float y = edge_y - 0.05f * face_w * static_cast<float>(std::sin(M_PI * t));
    shape.outline.emplace_back(cvRound(x), cvRound(y));
  }
  // Down the right jaw, around the chin (below it), up the left jaw.
  for (int j = 16 - side; j >= side; --j) {
    shape.outline.push_back(out_from_centre(p[j], j >= 6 && j <= 10 ? 1.12f : 1.08f));
  }
  const cv::Rect br = cv::boundingRect(shape.outline);
  shape.box = cv::Rect2d(br);
  shape.tilt = r.y - l.y;
  shape.ear_left_from = l;
  shape.ear_left_to = out_from_centre(p[0], 1.1f);
  shape.ear_right_from = r;
  shape.ear_right_to = out_from_centre(p[16], 1.1f);
  return PaintMask(image, shape, rng);
}

}  // namespace stratus::training
