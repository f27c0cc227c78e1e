#include "training/mask_synth.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <random>
#include <vector>

namespace stratus::training {

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
  std::vector<cv::Point> outline;
  const int steps = 24;
  for (int i = 0; i <= steps; ++i) {
    const double t = static_cast<double>(i) / steps;
    const double x = left + (right - left) * t;
    const double arch = 0.04 * std::sin(M_PI * t);
    const double y = top - arch + tilt * (t - 0.5);
    outline.emplace_back(static_cast<int>(x * w), static_cast<int>(y * h));
  }
  for (int i = 0; i <= steps; ++i) {
    const double t = static_cast<double>(i) / steps;
    const double x = right - (right - left) * t;
    const double sag = 0.06 * std::sin(M_PI * t);
    const double y = bottom - 0.06 + sag + tilt * (0.5 - t);
    outline.emplace_back(static_cast<int>(x * w), static_cast<int>(y * h));
  }
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
  // Shading: darker towards the sides and the bottom, as a curved surface is lit.
  cv::Mat shade(h, w, CV_32F);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const double dx = (x / static_cast<double>(w) - 0.5) * 2;
      const double dy = y / static_cast<double>(h);
      shade.at<float>(y, x) = static_cast<float>(1.0 - 0.22 * dx * dx - 0.10 * dy);
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
  const int thickness = std::max(1, h / 90);
  if (pick < 0.6) {
    for (int k = 1; k <= 3; ++k) {
      const double y = top + (bottom - top) * (0.2 + 0.22 * k);
      cv::line(layer, {static_cast<int>(left * w), static_cast<int>(y * h)},
               {static_cast<int>(right * w), static_cast<int>((y + tilt) * h)}, line_colour,
               thickness, cv::LINE_AA);
    }
  } else {
    cv::line(layer, {w / 2, static_cast<int>((top - 0.04) * h)},
             {w / 2, static_cast<int>(bottom * h)}, line_colour, thickness, cv::LINE_AA);
  }
  // Fabric noise.
  cv::Mat noise(h, w, CV_16SC3);
  cv::RNG cv_rng(seed ^ 0x5DEECE66DULL);  // seeded: OpenCV's global generator is not
  cv_rng.fill(noise, cv::RNG::NORMAL, 0, 6);
  cv::Mat noisy;
  cv::add(layer, noise, noisy, cv::noArray(), CV_8U);
  // Composite inside the outline, edges softened by one pixel.
  cv::Mat mask = cv::Mat::zeros(h, w, CV_8U);
  cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{outline}, cv::Scalar(255), cv::LINE_AA);
  cv::GaussianBlur(mask, mask, cv::Size(3, 3), 0);
  cv::Mat out = face.clone();
  for (int y = 0; y < h; ++y) {
    const uint8_t* m = mask.ptr<uint8_t>(y);
    const cv::Vec3b* src = noisy.ptr<cv::Vec3b>(y);
    cv::Vec3b* dst = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < w; ++x) {
      const float a = m[x] / 255.0f;
      for (int k = 0; k < 3; ++k) {
        dst[x][k] = cv::saturate_cast<uint8_t>(dst[x][k] * (1 - a) + src[x][k] * a);
      }
    }
  }
  // Ear loops from the mask's upper corners towards the ears.
  const cv::Scalar loop = pick < 0.6 ? cv::Scalar(235, 235, 235) : colour * 0.9;
  const int ly = static_cast<int>((top + 0.03) * h);
  cv::line(out, {static_cast<int>(left * w), ly}, {0, static_cast<int>((top - 0.12) * h)}, loop,
           thickness, cv::LINE_AA);
  cv::line(out, {static_cast<int>(right * w), ly}, {w - 1, static_cast<int>((top - 0.12) * h)},
           loop, thickness, cv::LINE_AA);
  return out;
}

}  // namespace stratus::training
