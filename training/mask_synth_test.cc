#include "training/mask_synth.h"

#include <cmath>
#include <opencv2/core.hpp>
#include <vector>

#include "gtest/gtest.h"

namespace stratus::training {
namespace {

// Mean absolute change of rows [y0, y1) as fractions of the height.
double Change(const cv::Mat& a, const cv::Mat& b, double y0, double y1) {
  const cv::Rect band(0, static_cast<int>(y0 * a.rows), a.cols,
                      static_cast<int>((y1 - y0) * a.rows));
  return cv::mean(cv::abs(a(band) - b(band)))[0] + cv::mean(cv::abs(b(band) - a(band)))[0];
}

TEST(MaskSynthTest, PlacementDecidesWhatIsCovered) {
  cv::Mat face(160, 140, CV_8UC3);
  cv::randu(face, cv::Scalar::all(60), cv::Scalar::all(200));
  const cv::Mat below = DrawSyntheticMask(face, MaskPlacement::kBelowNose, 1);
  const cv::Mat chin = DrawSyntheticMask(face, MaskPlacement::kOnChin, 2);
  const cv::Mat correct = DrawSyntheticMask(face, MaskPlacement::kCorrect, 3);
  ASSERT_EQ(below.size(), face.size());
  // Below the nose: eyes and nose (top half) untouched, mouth (around 80%) covered.
  EXPECT_EQ(Change(face, below, 0.0, 0.5), 0.0);
  EXPECT_GT(Change(face, below, 0.75, 0.85), 20.0);
  // On the chin: the mouth line (70%) is still bare.
  EXPECT_LT(Change(face, chin, 0.68, 0.72), 1.0);
  EXPECT_GT(Change(face, chin, 0.9, 0.95), 20.0);
  // Worn correctly: the nose (around 58%) is covered too.
  EXPECT_GT(Change(face, correct, 0.55, 0.62), 20.0);
  // Deterministic for a seed; different seeds draw different masks.
  EXPECT_EQ(cv::norm(DrawSyntheticMask(face, MaskPlacement::kBelowNose, 1), below), 0.0);
  EXPECT_GT(cv::norm(DrawSyntheticMask(face, MaskPlacement::kBelowNose, 9), below), 0.0);
}

// A frontal face's 68 landmarks (iBUG order) in a 100x130 image: jaw as a U, eyes at y=45,
// nose from 45 to its base at 75, mouth around (50, 88).
std::vector<cv::Point2f> FakeLandmarks() {
  std::vector<cv::Point2f> p(68);
  for (int i = 0; i <= 16; ++i) {
    p[i] = {20.0f + 60.0f * i / 16, 50.0f + 55.0f * static_cast<float>(std::sin(M_PI * i / 16))};
  }
  for (int i = 17; i <= 26; ++i) p[i] = {25.0f + 50.0f * (i - 17) / 9, 38.0f};
  for (int i = 27; i <= 30; ++i) p[i] = {50.0f, 45.0f + 8.0f * (i - 27)};
  for (int i = 31; i <= 35; ++i) p[i] = {42.0f + 4.0f * (i - 31), 75.0f};
  for (int i = 36; i <= 47; ++i) p[i] = {(i < 42 ? 35.0f : 65.0f) + (i % 6) - 3.0f, 45.0f};
  for (int i = 48; i <= 67; ++i) {
    const double a = 2 * M_PI * (i - 48) / (i < 60 ? 12 : 8);
    const float r = i < 60 ? 1.0f : 0.6f;
    p[i] = {50.0f + r * 12.0f * static_cast<float>(std::cos(a + M_PI)),
            88.0f + r * 5.0f * static_cast<float>(std::sin(a + M_PI / 2))};
  }
  p[51] = {50.0f, 83.0f};
  p[57] = {50.0f, 93.0f};
  return p;
}

TEST(MaskSynthTest, LandmarksPlaceTheMask) {
  cv::Mat image(130, 100, CV_8UC3);
  cv::randu(image, cv::Scalar::all(60), cv::Scalar::all(200));
  const auto lm = FakeLandmarks();
  const cv::Rect middle_above_nose_base(35, 0, 30, 70);
  const cv::Rect mouth(40, 84, 20, 8);
  const cv::Rect nose(45, 58, 10, 10);
  auto changed = [&](const cv::Mat& out, const cv::Rect& r) {
    return cv::norm(out(r), image(r), cv::NORM_L1) / r.area();
  };
  const cv::Mat below = DrawSyntheticMaskOnLandmarks(image, lm, MaskPlacement::kBelowNose, 4);
  EXPECT_EQ(changed(below, middle_above_nose_base), 0.0);  // eyes and nose bare
  EXPECT_GT(changed(below, mouth), 20.0);                  // mouth covered
  const cv::Mat correct = DrawSyntheticMaskOnLandmarks(image, lm, MaskPlacement::kCorrect, 5);
  EXPECT_GT(changed(correct, nose), 20.0);
  EXPECT_GT(changed(correct, mouth), 20.0);
  const cv::Mat chin = DrawSyntheticMaskOnLandmarks(image, lm, MaskPlacement::kOnChin, 6);
  EXPECT_LT(changed(chin, cv::Rect(42, 84, 16, 4)), 1.0);  // upper lip bare
}

}  // namespace
}  // namespace stratus::training
