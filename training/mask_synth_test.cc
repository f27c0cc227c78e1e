#include "training/mask_synth.h"

#include <opencv2/core.hpp>

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

}  // namespace
}  // namespace stratus::training
