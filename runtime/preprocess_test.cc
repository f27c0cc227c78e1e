#include "runtime/preprocess.h"

#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace stratus::runtime {
namespace {

InputSpec Spec(int w, int h, ResizePolicy r, Interpolation i) {
  InputSpec s;
  s.width = w;
  s.height = h;
  s.resize = r;
  s.interpolation = i;
  return s;
}

// A 1-row image with the red channel = `values`, green = 1, blue = 2.
cv::Mat Row(const std::vector<uint8_t>& values) {
  cv::Mat m(1, static_cast<int>(values.size()), CV_8UC3);
  for (size_t i = 0; i < values.size(); ++i) m.at<cv::Vec3b>(0, static_cast<int>(i)) = {values[i], 1, 2};
  return m;
}

TEST(PreprocessTest, TfBilinearMatchesTensorFlowLegacySampling) {
  // TF resizeBilinear(alignCorners=false, halfPixelCenters=false): src = dst * in/out.
  std::vector<float> out(3 * 4);
  ASSERT_TRUE(PreprocessImage(Row({0, 100}), Spec(4, 1, ResizePolicy::kStretch,
                                                   Interpolation::kTfBilinear),
                              Layout::kNCHW, out.data(), nullptr)
                  .ok());
  EXPECT_THAT(std::vector<float>(out.begin(), out.begin() + 4),
              ::testing::ElementsAre(0.f, 50.f, 100.f, 100.f));
  EXPECT_FLOAT_EQ(out[4], 1.f);  // green plane
  EXPECT_FLOAT_EQ(out[8], 2.f);  // blue plane
}

TEST(PreprocessTest, HalfPixelBilinear) {
  std::vector<float> out(3 * 4);
  ASSERT_TRUE(PreprocessImage(Row({0, 100}), Spec(4, 1, ResizePolicy::kStretch,
                                                   Interpolation::kBilinear),
                              Layout::kNCHW, out.data(), nullptr)
                  .ok());
  // src = (dst + 0.5) * 0.5 - 0.5 = -0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped to 1).
  EXPECT_THAT(std::vector<float>(out.begin(), out.begin() + 4),
              ::testing::ElementsAre(0.f, 25.f, 75.f, 100.f));
}

TEST(PreprocessTest, PadCentreSplitsLikeFaceApiAndNormalises) {
  // 1x3 image -> square canvas 3x3: padding rows 1 before... (diff 2: 1 after, 1 before).
  InputSpec s = Spec(3, 3, ResizePolicy::kPadCenter, Interpolation::kTfBilinear);
  s.mean = {10, 0, 0};
  s.std = {2, 1, 1};
  s.bgr = true;
  std::vector<float> out(27);
  InputGeometry g;
  ASSERT_TRUE(PreprocessImage(Row({30, 50, 70}), s, Layout::kNHWC, out.data(), &g).ok());
  // NHWC, BGR: channel 0 is blue (2), channel 2 red normalised (v - 10) / 2.
  // Pixel (0,0) is padding (0 in every channel): B (0 - 10) / 2, G 0, R 0.
  EXPECT_FLOAT_EQ(out[0], -5.f);
  EXPECT_FLOAT_EQ(out[2], 0.f);
  // middle row holds the image: pixel (1,1) R = 50.
  EXPECT_FLOAT_EQ(out[(1 * 3 + 1) * 3 + 2], 50.f);
  EXPECT_FLOAT_EQ(out[(1 * 3 + 1) * 3 + 0], (2.f - 10.f) / 2.f);
  EXPECT_DOUBLE_EQ(g.offset_y, 1.0);
  EXPECT_DOUBLE_EQ(g.scale_y, 1.0);
  EXPECT_DOUBLE_EQ(g.InputToImageFractionY(1.0), 0.0);
}

TEST(PreprocessTest, GeometryOfEachPolicy) {
  // 200x100 into 100x100.
  InputGeometry g = ComputeGeometry(
      200, 100, Spec(100, 100, ResizePolicy::kPadBottomRight, Interpolation::kTfBilinear));
  EXPECT_DOUBLE_EQ(g.scale_x, 0.5);
  EXPECT_DOUBLE_EQ(g.offset_y, 0);
  EXPECT_DOUBLE_EQ(g.InputToImageFractionY(50), 1.0);
  g = ComputeGeometry(200, 100, Spec(100, 100, ResizePolicy::kLetterbox, Interpolation::kBilinear));
  EXPECT_DOUBLE_EQ(g.offset_y, 25);
  EXPECT_DOUBLE_EQ(g.InputToImageFractionY(75), 1.0);
  g = ComputeGeometry(200, 100, Spec(100, 100, ResizePolicy::kStretch, Interpolation::kBilinear));
  EXPECT_DOUBLE_EQ(g.scale_y, 1.0);
  EXPECT_DOUBLE_EQ(g.InputToImageFractionX(100), 1.0);
  // face-api rounds the content size for the SSD: 333x500 -> 512: content width round(340.99)=341.
  g = ComputeGeometry(333, 500, Spec(512, 512, ResizePolicy::kPadBottomRight,
                                     Interpolation::kTfBilinear));
  EXPECT_DOUBLE_EQ(g.InputToImageFractionX(341), 1.0);
}

TEST(PreprocessTest, RejectsBadImages) {
  std::vector<float> out(12);
  InputSpec s = Spec(2, 2, ResizePolicy::kStretch, Interpolation::kBilinear);
  EXPECT_FALSE(PreprocessImage(cv::Mat(), s, Layout::kNCHW, out.data(), nullptr).ok());
  EXPECT_FALSE(PreprocessImage(cv::Mat(2, 2, CV_8UC4), s, Layout::kNCHW, out.data(), nullptr).ok());
}

}  // namespace
}  // namespace stratus::runtime
