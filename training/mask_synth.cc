#include "training/mask_synth.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <random>
#include <vector>

namespace stratus::training {
namespace {

using Rng = std::mt19937_64;

double Uniform(Rng& rng, double lo, double hi) {
  return lo + (hi - lo) * std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

cv::Point2f Lerp(const cv::Point2f& a, const cv::Point2f& b, double t) {
  return a + (b - a) * static_cast<float>(t);
}

cv::Point2f Mean(const std::vector<cv::Point2f>& p, int from, int to) {  // [from, to]
  cv::Point2f s(0, 0);
  for (int i = from; i <= to; ++i) s += p[i];
  return s * (1.0f / static_cast<float>(to - from + 1));
}

// The mask as a flat texture (BGR, float 0..255) of `size`: kind, colour, pleats or seams,
// pattern, bindings, curved-surface shading and fabric noise.
cv::Mat3f MaskTexture(cv::Size size, Rng& rng, cv::Scalar* loop_colour) {
  const int w = size.width;
  const int h = size.height;
  cv::Mat3f tex(h, w);
  const double kind = Uniform(rng, 0, 1);
  const bool surgical = kind < 0.55;
  const bool kn95 = !surgical && kind < 0.72;
  // Colours (BGR), weighted as masks are worn.
  cv::Scalar base;
  const double c = Uniform(rng, 0, 1);
  if (surgical) {
    if (c < 0.62) {  // surgical blue, from pale to saturated
      base = cv::Scalar(Uniform(rng, 205, 245), Uniform(rng, 170, 215), Uniform(rng, 110, 170));
    } else if (c < 0.74) {  // teal / green
      base = cv::Scalar(Uniform(rng, 170, 210), Uniform(rng, 190, 220), Uniform(rng, 140, 180));
    } else if (c < 0.9) {  // white
      const double g = Uniform(rng, 215, 250);
      base = cv::Scalar(g, g - Uniform(rng, 0, 8), g - Uniform(rng, 0, 12));
    } else if (c < 0.95) {  // pink
      base = cv::Scalar(Uniform(rng, 190, 225), Uniform(rng, 170, 200), Uniform(rng, 220, 250));
    } else {  // black
      const double g = Uniform(rng, 25, 60);
      base = cv::Scalar(g, g, g);
    }
  } else if (kn95) {
    const double g = c < 0.7    ? Uniform(rng, 210, 245)
                     : c < 0.85 ? Uniform(rng, 120, 170)
                                : Uniform(rng, 25, 55);
    base = cv::Scalar(g, g, g + Uniform(rng, -6, 6));
  } else if (c < 0.35) {  // black / dark cloth
    const double g = Uniform(rng, 15, 55);
    base = cv::Scalar(g + Uniform(rng, 0, 15), g, g);
  } else {  // any colour, moderate saturation
    cv::Mat3b hsv(1, 1,
                  cv::Vec3b(static_cast<uchar>(Uniform(rng, 0, 180)),
                            static_cast<uchar>(Uniform(rng, 30, 200)),
                            static_cast<uchar>(Uniform(rng, 60, 240))));
    cv::Mat3b bgr;
    cv::cvtColor(hsv, bgr, cv::COLOR_HSV2BGR);
    base = cv::Scalar(bgr(0, 0)[0], bgr(0, 0)[1], bgr(0, 0)[2]);
  }
  tex.setTo(cv::Scalar(base[0], base[1], base[2]));
  // Cloth patterns: stripes, dots or a low-frequency print in a second colour.
  if (!surgical && !kn95) {
    const double pattern = Uniform(rng, 0, 1);
    const cv::Scalar second(Uniform(rng, 0, 255), Uniform(rng, 0, 255), Uniform(rng, 0, 255));
    if (pattern < 0.2) {
      const double period = Uniform(rng, 0.08, 0.25) * h;
      const double angle = Uniform(rng, -0.8, 0.8);
      for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
          const double s = (y * std::cos(angle) + x * std::sin(angle)) / period;
          if (s - std::floor(s) < 0.4) tex(y, x) = cv::Vec3f(second[0], second[1], second[2]);
        }
      }
    } else if (pattern < 0.4) {
      const double step = Uniform(rng, 0.1, 0.22) * h;
      const int r = std::max(1, static_cast<int>(step * Uniform(rng, 0.15, 0.35)));
      for (double y = step / 2; y < h; y += step) {
        for (double x = step / 2 + (static_cast<int>(y / step) % 2) * step / 2; x < w; x += step) {
          cv::circle(tex, cv::Point(static_cast<int>(x), static_cast<int>(y)), r, second, -1,
                     cv::LINE_AA);
        }
      }
    } else if (pattern < 0.6) {
      cv::Mat1f blob(std::max(2, h / 8), std::max(2, w / 8));
      cv::RNG cv_rng(rng());
      cv_rng.fill(blob, cv::RNG::UNIFORM, 0, 1);
      cv::resize(blob, blob, size, 0, 0, cv::INTER_CUBIC);
      for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
          const float a = std::clamp((blob(y, x) - 0.5f) * 4.0f, 0.0f, 1.0f);
          cv::Vec3f& t = tex(y, x);
          for (int k = 0; k < 3; ++k) t[k] = t[k] * (1 - a) + static_cast<float>(second[k]) * a;
        }
      }
    }
  }
  const float thick = std::max(1.0f, h / 45.0f);
  auto hline = [&](double fy, float factor, float width) {
    const int y0 = static_cast<int>(fy * h);
    for (int y = std::max(0, y0); y < std::min(h, y0 + static_cast<int>(width)); ++y) {
      for (int x = 0; x < w; ++x) tex(y, x) *= factor;
    }
  };
  if (surgical) {
    // Three pleats: a shadowed fold over a lit one; bindings along the top and bottom edges.
    const int pleats = Uniform(rng, 0, 1) < 0.8 ? 3 : 2;
    for (int k = 0; k < pleats; ++k) {
      const double fy = 0.28 + (0.48 / pleats) * (k + 0.5) + Uniform(rng, -0.03, 0.03);
      hline(fy, static_cast<float>(Uniform(rng, 0.72, 0.86)), thick);
      hline(fy + thick / h, static_cast<float>(Uniform(rng, 1.03, 1.1)), thick);
    }
    const float band = std::max(1.0f, static_cast<float>(h * Uniform(rng, 0.04, 0.08)));
    const float bf = static_cast<float>(Uniform(rng, 0.9, 1.08));
    hline(0, bf, band);
    hline(1.0 - band / h, bf, band);
    // Nose wire: a slightly raised strip at the top middle.
    const int x0 = static_cast<int>(w * Uniform(rng, 0.32, 0.4));
    for (int y = 0; y < std::min(h, static_cast<int>(band)); ++y) {
      for (int x = x0; x < w - x0; ++x) tex(y, x) *= 1.04f;
    }
  } else if (Uniform(rng, 0, 1) < 0.7) {
    // A vertical seam down the middle (KN95, most cloth masks).
    const int cx = static_cast<int>(w * Uniform(rng, 0.47, 0.53));
    for (int y = 0; y < h; ++y) {
      for (int x = std::max(0, cx - static_cast<int>(thick)); x <= std::min(w - 1, cx); ++x) {
        tex(y, x) *= 0.75f;
      }
    }
    if (kn95) {  // seams along the edges
      hline(0.06, 0.85f, thick);
      hline(0.92, 0.85f, thick);
    }
  }
  // Curved surface: darker towards the sides, lit from a random side and from above.
  const double side = Uniform(rng, 0.12, 0.35);
  const double light = Uniform(rng, -0.2, 0.2);
  const double above = Uniform(rng, 0.0, 0.2);
  for (int y = 0; y < h; ++y) {
    const double fy = static_cast<double>(y) / std::max(1, h - 1);
    for (int x = 0; x < w; ++x) {
      const double fx = 2.0 * x / std::max(1, w - 1) - 1.0;
      const double s = std::max(0.35, 1.0 - side * fx * fx + light * fx - above * fy);
      tex(y, x) *= static_cast<float>(s);
    }
  }
  cv::Mat3f noise(h, w);
  cv::RNG cv_rng(rng());
  cv_rng.fill(noise, cv::RNG::NORMAL, 0, Uniform(rng, 2, 7));
  tex += noise;
  *loop_colour =
      surgical ? cv::Scalar(235, 235, 235) - cv::Scalar::all(Uniform(rng, 0, 30)) : base * 0.9;
  return tex;
}

// Where along the face's down axis `v` (from `origin`) each point lies.
double Level(const cv::Point2f& q, const cv::Point2f& origin, const cv::Point2f& v) {
  return (q - origin).dot(v);
}

// The jaw contour's point at `level` on one side (jaw indices from `from` to 8 step `step`).
cv::Point2f JawAt(const std::vector<cv::Point2f>& p, int from, int step, double level,
                  const cv::Point2f& origin, const cv::Point2f& v) {
  if (level <= Level(p[from], origin, v)) return p[from];
  for (int i = from; i != 8; i += step) {
    const double a = Level(p[i], origin, v);
    const double b = Level(p[i + step], origin, v);
    if (level <= b && b > a) return Lerp(p[i], p[i + step], (level - a) / (b - a));
  }
  return p[8];
}

cv::Mat Paint(const cv::Mat& image, const std::vector<cv::Point2f>& p, MaskPlacement placement,
              uint64_t seed, const cv::Mat& texture) {
  Rng rng(seed);
  const cv::Point2f eye_l = Mean(p, 36, 41);
  const cv::Point2f eye_r = Mean(p, 42, 47);
  // Face axes: u across (left jaw to right jaw), v down (towards the chin).
  cv::Point2f u = p[16] - p[0];
  const float face_w = static_cast<float>(std::max(4.0, cv::norm(u)));
  u *= 1.0f / face_w;
  cv::Point2f v(-u.y, u.x);
  if ((p[8] - p[27]).dot(v) < 0) v = -v;
  const cv::Point2f origin = (eye_l + eye_r) * 0.5f;
  const double face_h = std::max(4.0, Level(p[8], p[27], v));
  // Where the top edge crosses the mid-line.
  cv::Point2f top;
  switch (placement) {
    case MaskPlacement::kCorrect:
      top = Lerp(p[27], p[29], Uniform(rng, 0.3, 0.8));
      break;
    case MaskPlacement::kNoseTip:
      top = Lerp(p[29], p[30], Uniform(rng, 0.4, 1.0));
      break;
    case MaskPlacement::kBelowNose:
      top = Lerp(p[33], p[51], Uniform(rng, 0.1, 0.75));
      break;
    case MaskPlacement::kOnChin:
      top = Lerp(p[57], p[8], Uniform(rng, 0.05, 0.4));
      break;
    case MaskPlacement::kUnderChin:
      top = p[8] + v * static_cast<float>(face_h * Uniform(rng, -0.1, 0.15));
      break;
  }
  const double top_level = Level(top, origin, v);
  const cv::Point2f jl = JawAt(p, 0, 1, top_level, origin, v);
  const cv::Point2f jr = JawAt(p, 16, -1, top_level, origin, v);
  // Sides: the jaw at that height, a little out from the skin; never under 3/4 of the face.
  const double half = std::max(0.5 * cv::norm(jr - jl) * Uniform(rng, 1.02, 1.1),
                               face_w * Uniform(rng, 0.36, 0.42));
  const cv::Point2f centre = top + u * static_cast<float>(((jl + jr) * 0.5f - top).dot(u));
  double height = face_h * Uniform(rng, 0.82, 0.98);
  if (placement == MaskPlacement::kCorrect) {
    height = std::max(height, Level(p[8], origin, v) - top_level + 0.06 * face_h);
  }
  // The top edge rises over the nose bridge (a worn mask's wire), not over a bare nose.
  const double arch = face_h * (placement == MaskPlacement::kCorrect ? Uniform(rng, 0.02, 0.07)
                                                                     : Uniform(rng, 0, 0.02));
  const double drop = face_h * Uniform(rng, 0.0, 0.12);  // top corners lower, towards the ears
  const double round = Uniform(rng, 0.35, 0.5);          // bottom: sides shorter than middle
  constexpr int kColumns = 14;
  std::vector<cv::Point2f> tops, bottoms;
  for (int i = 0; i <= kColumns; ++i) {
    const double a = 2.0 * i / kColumns - 1.0;
    const cv::Point2f base = centre + u * static_cast<float>(a * half);
    tops.push_back(base + v * static_cast<float>(-arch * std::exp(-a * a / 0.09) + drop * a * a));
    bottoms.push_back(base + v * static_cast<float>(height * (1 - round * a * a)));
  }
  const cv::Size tex_size(std::clamp(static_cast<int>(2 * half), 8, 2048),
                          std::clamp(static_cast<int>(height), 8, 2048));
  cv::Scalar loop_colour;
  cv::Mat3f tex = MaskTexture(tex_size, rng, &loop_colour);
  if (!texture.empty()) {
    cv::Mat resized;
    cv::resize(texture, resized, tex_size, 0, 0, cv::INTER_LINEAR);
    resized.convertTo(tex, CV_32FC3);
    const cv::Scalar m = cv::mean(resized);
    loop_colour = (m[0] + m[1] + m[2]) / 3 > 120 ? m * 1.05 : cv::Scalar(230, 230, 230);
  }
  // Mesh warp, column strip by column strip, two triangles each.
  const int w = image.cols;
  const int h = image.rows;
  cv::Mat3f layer(h, w, cv::Vec3f(0, 0, 0));
  cv::Mat1f alpha(h, w, 0.0f);
  for (int i = 0; i < kColumns; ++i) {
    const float x0 = static_cast<float>(tex_size.width - 1) * i / kColumns;
    const float x1 = static_cast<float>(tex_size.width - 1) * (i + 1) / kColumns;
    const float yb = static_cast<float>(tex_size.height - 1);
    const std::array<std::array<cv::Point2f, 3>, 2> src = {
        {{cv::Point2f(x0, 0), cv::Point2f(x1, 0), cv::Point2f(x1, yb)},
         {cv::Point2f(x0, 0), cv::Point2f(x1, yb), cv::Point2f(x0, yb)}}};
    const std::array<std::array<cv::Point2f, 3>, 2> dst = {
        {{tops[i], tops[i + 1], bottoms[i + 1]}, {tops[i], bottoms[i + 1], bottoms[i]}}};
    for (int t = 0; t < 2; ++t) {
      std::vector<cv::Point2f> d(dst[t].begin(), dst[t].end());
      const cv::Rect r = cv::boundingRect(d) & cv::Rect(0, 0, w, h);
      if (r.width <= 0 || r.height <= 0) continue;
      std::array<cv::Point2f, 3> local;
      std::vector<cv::Point> poly;
      for (int k = 0; k < 3; ++k) {
        local[k] = d[k] - cv::Point2f(static_cast<float>(r.x), static_cast<float>(r.y));
        poly.emplace_back(cvRound(local[k].x), cvRound(local[k].y));
      }
      const cv::Mat m = cv::getAffineTransform(src[t].data(), local.data());
      cv::Mat3f warped;
      cv::warpAffine(tex, warped, m, r.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
      cv::Mat1b tri = cv::Mat1b::zeros(r.size());
      cv::fillConvexPoly(tri, poly, cv::Scalar(255), cv::LINE_8);
      warped.copyTo(layer(r), tri);
      alpha(r).setTo(1.0f, tri);
    }
  }
  // Light and colour of the photo: the mask takes the low-frequency brightness of the skin it
  // covers (relative to the face's mean) and part of the photo's colour cast.
  cv::Mat gray;
  cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
  cv::Mat1f lum;
  gray.convertTo(lum, CV_32F);
  const double sigma = std::max(1.0, face_h * Uniform(rng, 0.12, 0.25));
  cv::GaussianBlur(lum, lum, cv::Size(0, 0), sigma);
  const cv::Mat1b inside = alpha > 0.5f;
  const double face_mean = std::max(10.0, cv::mean(lum, inside)[0]);
  const double gamma = Uniform(rng, 0.3, 0.9);
  const double overall = std::pow(std::clamp(face_mean / 140.0, 0.3, 1.4), Uniform(rng, 0.2, 0.7));
  const cv::Scalar photo = cv::mean(image);
  const double photo_gray = std::max(1.0, (photo[0] + photo[1] + photo[2]) / 3);
  const double cast_weight = Uniform(rng, 0.0, 0.5);
  cv::Vec3f cast;
  for (int k = 0; k < 3; ++k) {
    cast[k] =
        static_cast<float>(1.0 + cast_weight * (std::clamp(photo[k] / photo_gray, 0.6, 1.6) - 1));
  }
  for (int y = 0; y < h; ++y) {
    const float* a = alpha.ptr<float>(y);
    const float* l = lum.ptr<float>(y);
    cv::Vec3f* px = layer.ptr<cv::Vec3f>(y);
    for (int x = 0; x < w; ++x) {
      if (a[x] == 0) continue;
      const double f =
          overall * std::clamp(std::pow(std::max(1.0f, l[x]) / face_mean, gamma), 0.45, 1.6);
      for (int k = 0; k < 3; ++k) px[x][k] = static_cast<float>(px[x][k] * f * cast[k]);
    }
  }
  // Sharpness: the mask is no crisper than the photo; its edge is soft by a pixel or so.
  const double soft = std::max(0.5, face_h / 160.0) * Uniform(rng, 0.6, 1.4);
  cv::GaussianBlur(alpha, alpha, cv::Size(0, 0), soft);
  if (Uniform(rng, 0, 1) < 0.5) cv::GaussianBlur(layer, layer, cv::Size(0, 0), soft);
  cv::Mat3f out;
  image.convertTo(out, CV_32FC3);
  // Contact shadow on the skin around the mask's edge, cast downwards, sometimes.
  if (Uniform(rng, 0, 1) < 0.5) {
    const double spread = std::max(1.0, face_h / 40.0);
    const cv::Mat shift =
        (cv::Mat_<double>(2, 3) << 1, 0, 2 * spread * v.x, 0, 1, 2 * spread * v.y);
    cv::Mat1f shadow;
    cv::warpAffine(alpha, shadow, shift, alpha.size());
    cv::GaussianBlur(shadow, shadow, cv::Size(0, 0), spread);
    const float depth = static_cast<float>(Uniform(rng, 0.1, 0.3));
    for (int y = 0; y < h; ++y) {
      const float* s = shadow.ptr<float>(y);
      cv::Vec3f* o = out.ptr<cv::Vec3f>(y);
      for (int x = 0; x < w; ++x) o[x] *= 1.0f - depth * s[x];
    }
  }
  for (int y = 0; y < h; ++y) {
    const float* a = alpha.ptr<float>(y);
    const cv::Vec3f* m = layer.ptr<cv::Vec3f>(y);
    cv::Vec3f* o = out.ptr<cv::Vec3f>(y);
    for (int x = 0; x < w; ++x) {
      if (a[x] > 0) o[x] = o[x] * (1 - a[x]) + m[x] * a[x];
    }
  }
  cv::Mat result;
  out.convertTo(result, CV_8UC3);
  // Ear loops from the mask's corners towards the ears (jaw ends, a little out and up).
  const int line = std::max(1, static_cast<int>(std::lround(face_h / 90.0)));
  const cv::Scalar loop = loop_colour * overall;
  const cv::Point2f ear_l = p[0] + (p[0] - p[16]) * 0.04f - v * static_cast<float>(0.05 * face_h);
  const cv::Point2f ear_r = p[16] + (p[16] - p[0]) * 0.04f - v * static_cast<float>(0.05 * face_h);
  cv::line(result, tops.front(), ear_l, loop, line, cv::LINE_AA);
  cv::line(result, tops.back(), ear_r, loop, line, cv::LINE_AA);
  if (Uniform(rng, 0, 1) < 0.5) {
    cv::line(result, bottoms.front(), ear_l + v * static_cast<float>(0.1 * face_h), loop, line,
             cv::LINE_AA);
    cv::line(result, bottoms.back(), ear_r + v * static_cast<float>(0.1 * face_h), loop, line,
             cv::LINE_AA);
  }
  return result;
}

}  // namespace

bool IsWornIncorrectly(MaskPlacement placement) { return placement != MaskPlacement::kCorrect; }

MaskPlacement IncorrectPlacement(double u) {
  if (u < 0.15) return MaskPlacement::kNoseTip;
  if (u < 0.55) return MaskPlacement::kBelowNose;
  if (u < 0.85) return MaskPlacement::kOnChin;
  return MaskPlacement::kUnderChin;
}

std::vector<cv::Point2f> GeometricLandmarks(cv::Size size) {
  const float w = static_cast<float>(size.width);
  const float h = static_cast<float>(size.height);
  auto at = [&](double x, double y) {
    return cv::Point2f(static_cast<float>(x) * w, static_cast<float>(y) * h);
  };
  std::vector<cv::Point2f> p(68);
  // Jaw: half an ellipse from ear to ear through the chin.
  for (int i = 0; i <= 16; ++i) {
    const double a = M_PI * i / 16;
    p[i] = at(0.5 - 0.42 * std::cos(a), 0.42 + 0.52 * std::sin(a));
  }
  for (int i = 17; i <= 26; ++i) p[i] = at(0.2 + 0.6 * (i - 17) / 9.0, 0.34);  // brows
  for (int i = 27; i <= 30; ++i) p[i] = at(0.5, 0.42 + 0.05 * (i - 27));       // bridge, tip 0.57
  for (int i = 31; i <= 35; ++i) p[i] = at(0.43 + 0.035 * (i - 31), 0.62);     // nose base
  for (int i = 36; i <= 47; ++i) {  // eyes: rings around (0.33, 0.42) and (0.67, 0.42)
    const double a = 2 * M_PI * (i % 6) / 6;
    p[i] = at((i < 42 ? 0.33 : 0.67) + 0.06 * std::cos(a + M_PI), 0.42 + 0.02 * std::sin(a));
  }
  for (int i = 48; i <= 67; ++i) {  // mouth: outer ring (48..59), inner ring (60..67)
    const bool outer = i < 60;
    const double a = 2 * M_PI * (outer ? i - 48 : i - 60) / (outer ? 12 : 8);
    const double r = outer ? 1.0 : 0.6;
    p[i] = at(0.5 + r * 0.13 * std::cos(a + M_PI), 0.735 + r * 0.055 * std::sin(a + M_PI / 2));
  }
  p[51] = at(0.5, 0.68);
  p[57] = at(0.5, 0.79);
  return p;
}

cv::Mat DrawSyntheticMaskOnLandmarks(const cv::Mat& image, const std::vector<cv::Point2f>& p,
                                     MaskPlacement placement, uint64_t seed,
                                     const cv::Mat& texture) {
  return Paint(image, p, placement, seed, texture);
}

cv::Mat DrawSyntheticMask(const cv::Mat& face, MaskPlacement placement, uint64_t seed,
                          const cv::Mat& texture) {
  return Paint(face, GeometricLandmarks(face.size()), placement, seed, texture);
}

cv::Mat RealMaskPatch(const cv::Mat& image, const cv::Rect& face) {
  const cv::Rect r =
      cv::Rect(face.x + static_cast<int>(0.28 * face.width),
               face.y + static_cast<int>(0.58 * face.height), static_cast<int>(0.44 * face.width),
               static_cast<int>(0.30 * face.height)) &
      cv::Rect(0, 0, image.cols, image.rows);
  if (r.width < 8 || r.height < 6) return cv::Mat();
  cv::Mat out;
  cv::resize(image(r), out, cv::Size(64, 48), 0, 0, cv::INTER_AREA);
  return out;
}

cv::Rect MaskServiceCrop(double x, double y, double box_width, double box_height, int width,
                         int height) {
  // The detector reports boxes clamped to the image; the service grows those.
  const double x1c = std::clamp(x, 0.0, static_cast<double>(width));
  const double y1c = std::clamp(y, 0.0, static_cast<double>(height));
  const double bw = std::clamp(x + box_width, 0.0, static_cast<double>(width)) - x1c;
  const double bh = std::clamp(y + box_height, 0.0, static_cast<double>(height)) - y1c;
  auto px = [](double v, int limit) {
    return static_cast<int>(std::lround(std::clamp(v, 0.0, static_cast<double>(limit))));
  };
  const int ix1 = px(x1c - 0.18 * bw, width);
  const int ix2 = px(x1c + 1.18 * bw, width);
  const int iy1 = px(y1c - 0.15 * bh, height);
  const int iy2 = px(y1c + 1.19 * bh, height);
  if (ix2 - ix1 < 1 || iy2 - iy1 < 1) return cv::Rect();
  return cv::Rect(ix1, iy1, ix2 - ix1, iy2 - iy1);
}

namespace {

uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (const unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

MaskSplit MaskSplitOf(const std::string& file_name) {
  const int bucket = static_cast<int>(Fnv1a(file_name) % 10);
  return bucket == 0 ? MaskSplit::kTest : bucket == 1 ? MaskSplit::kValidation : MaskSplit::kTrain;
}

MaskSplit DevSetSplitOf(const std::string& file_name) {
  const int bucket = static_cast<int>((Fnv1a(file_name) >> 7) % 5);
  return bucket < 2 ? MaskSplit::kTrain : bucket == 2 ? MaskSplit::kValidation : MaskSplit::kTest;
}

}  // namespace stratus::training
