// face-api's geometry (crops, alignment) reproduced exactly: checked against the rectangles the
// JavaScript reference recorded in ../shared/golden/faceapi/sampleN.json, model-free.
#include "runtime/face_pipeline.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace stratus::runtime {
namespace {

namespace fs = std::filesystem;

fs::path GoldenDir() {
  if (const char* g = std::getenv("STRATUS_GOLDEN_DIR")) return g;
  const char* src = std::getenv("STRATUS_SOURCE_DIR");
  return fs::path(src ? src : ".") / ".." / "shared" / "golden";
}

TEST(FaceGeometryTest, ClipAtImageBordersFloorsEachField) {
  cv::Rect r = ClipAtImageBorders(PixelRect{-3.5, 10.7, 20.9, 30.2}, 100, 100);
  EXPECT_EQ(r, cv::Rect(0, 10, 17, 30));  // width = right (17.4) - 0, floored
  r = ClipAtImageBorders(PixelRect{90.2, 95.5, 20, 20}, 100, 100);
  EXPECT_EQ(r, cv::Rect(90, 95, 9, 4));
  EXPECT_TRUE(ClipAtImageBorders(PixelRect{120, 0, 5, 5}, 100, 100).empty());
}

TEST(FaceGeometryTest, AlignmentMatchesFaceApiOnGoldenLandmarks) {
  int checked = 0;
  for (int s = 1; s <= 6; ++s) {
    const fs::path p = GoldenDir() / "faceapi" / ("sample" + std::to_string(s) + ".json");
    if (!fs::exists(p)) continue;
    nlohmann::json j;
    std::ifstream(p) >> j;
    const int w = j["width"].get<int>(), h = j["height"].get<int>();
    for (const auto& f : j["ssdMobilenetv1"]) {
      std::vector<Point> pts;
      for (const auto& q : f["landmarks"]["positions"]) {
        pts.push_back(Point{q[0].get<float>(), q[1].get<float>()});
      }
      const auto& crop = f["landmarks"]["cropDims"];
      const PixelRect dlib = AlignDlib(pts, crop["width"].get<int>(), crop["height"].get<int>());
      const auto& gd = f["dlibAlignedRect"];
      EXPECT_DOUBLE_EQ(dlib.x, gd["x"].get<double>());
      EXPECT_DOUBLE_EQ(dlib.y, gd["y"].get<double>());
      EXPECT_DOUBLE_EQ(dlib.width, gd["width"].get<double>());
      EXPECT_DOUBLE_EQ(dlib.height, gd["height"].get<double>());
      const PixelRect a = AlignMinBbox(pts);
      const auto& ga = f["alignedRect"]["box"];
      // Points are stored as float here: the rectangle agrees to well under a pixel.
      EXPECT_NEAR(a.x, ga["x"].get<double>(), 1e-3);
      EXPECT_NEAR(a.width, ga["width"].get<double>(), 1e-3);
      EXPECT_NEAR(a.height, ga["height"].get<double>(), 1e-3);
      // The landmark crop face-api cut has the recorded size.
      const auto& b = f["detection"]["box"];
      const cv::Rect c = ClipAtImageBorders(
          PixelRect{b["x"].get<double>(), b["y"].get<double>(), b["width"].get<double>(),
                    b["height"].get<double>()},
          w, h);
      EXPECT_EQ(c.width, crop["width"].get<int>());
      EXPECT_EQ(c.height, crop["height"].get<int>());
      ++checked;
    }
  }
  if (checked == 0) GTEST_SKIP() << "no golden files under " << GoldenDir();
  EXPECT_GE(checked, 20);
}

std::vector<Point> FrontalFace() {
  // A symmetric 68-point layout: jaw 0..16, eyes 36..47, nose tip 30, chin 8.
  std::vector<Point> p(68, Point{50, 50});
  for (int i = 0; i <= 16; ++i) {
    const double t = i / 16.0 * 3.14159265;
    p[static_cast<size_t>(i)] = Point{static_cast<float>(50 - 40 * std::cos(t)),
                                      static_cast<float>(40 + 50 * std::sin(t))};
  }
  for (int i = 36; i < 42; ++i) p[static_cast<size_t>(i)] = Point{30.f + (i - 36) * 2, 40};
  for (int i = 42; i < 48; ++i) p[static_cast<size_t>(i)] = Point{60.f + (i - 42) * 2, 40};
  p[36] = Point{28, 40};
  p[45] = Point{72, 40};
  p[30] = Point{50, 60};  // 40% of the way from the eyes (40) to the chin (90)
  p[8] = Point{50, 90};
  return p;
}

TEST(FaceGeometryTest, PoseOfAFrontalAndARolledFace) {
  std::vector<Point> f = FrontalFace();
  FacePose pose = EstimatePose(f);
  EXPECT_NEAR(pose.roll, 0, 1e-3);
  EXPECT_NEAR(pose.yaw, 0, 1.0);
  EXPECT_NEAR(pose.pitch, 0, 1.0);
  // Rotate everything by 20 degrees: roll follows, yaw/pitch stay.
  const double a = 20 * 3.14159265358979 / 180;
  for (Point& q : f) {
    const double x = q.x - 50, y = q.y - 50;
    q = Point{static_cast<float>(50 + x * std::cos(a) - y * std::sin(a)),
              static_cast<float>(50 + x * std::sin(a) + y * std::cos(a))};
  }
  pose = EstimatePose(f);
  EXPECT_NEAR(pose.roll, 20, 1e-3);
  EXPECT_NEAR(pose.yaw, 0, 1.0);
  EXPECT_NEAR(pose.pitch, 0, 1.0);
  // Nose towards the right jaw: positive yaw.
  f = FrontalFace();
  f[30].x += 20;
  EXPECT_GT(EstimatePose(f).yaw, 20);
}

TEST(FaceGeometryTest, QualityTellsBlurAndBrightness) {
  cv::Mat sharp(112, 112, CV_8UC3);
  for (int y = 0; y < 112; ++y) {
    for (int x = 0; x < 112; ++x) {
      const uint8_t v = ((x / 4 + y / 4) % 2) ? 200 : 40;
      sharp.at<cv::Vec3b>(y, x) = {v, v, v};
    }
  }
  cv::Mat flat(112, 112, CV_8UC3, cv::Scalar(120, 120, 120));
  const FaceQuality qs = MeasureQuality(sharp), qf = MeasureQuality(flat);
  EXPECT_GT(qs.sharpness, 90);
  EXPECT_LT(qf.sharpness, 1);
  EXPECT_NEAR(qf.brightness, 120 / 2.55, 0.5);
}

TEST(FaceGeometryTest, EyePatchIsUprightAndCentredOnTheCorners) {
  // Corners 46 px apart on a line tilted by 30 degrees: they land on the patch's horizontal
  // middle line, 64 / 2.3 px apart, left corner on the left whichever order they come in.
  const double a = 30 * 3.14159265358979 / 180;
  const Point l{100, 100};
  const Point r{static_cast<float>(100 + 46 * std::cos(a)), static_cast<float>(100 + 46 * std::sin(a))};
  for (const auto& [p, q] : {std::pair{l, r}, std::pair{r, l}}) {
    const cv::Mat m = EyePatchTransform(p, q, 64);
    auto map = [&](const Point& x) {
      return Point{static_cast<float>(m.at<double>(0, 0) * x.x + m.at<double>(0, 1) * x.y +
                                      m.at<double>(0, 2)),
                   static_cast<float>(m.at<double>(1, 0) * x.x + m.at<double>(1, 1) * x.y +
                                      m.at<double>(1, 2))};
    };
    const Point ml = map(l), mr = map(r);
    EXPECT_NEAR(ml.y, 32, 1e-3);
    EXPECT_NEAR(mr.y, 32, 1e-3);
    EXPECT_NEAR(ml.x, 32 - 32 / 2.3, 1e-3);
    EXPECT_NEAR(mr.x, 32 + 32 / 2.3, 1e-3);
  }
}

TEST(FaceGeometryTest, GazeFollowsTheIrisInItsEye) {
  // Corners at x 18 and 46 on y 32, lids at 28 and 36: the eye's centre is (32, 32).
  std::vector<Point> pts(76, Point{32, 32});
  pts[0] = Point{18, 32};
  pts[8] = Point{46, 32};
  pts[4] = Point{32, 36};
  pts[12] = Point{32, 28};
  auto gaze = [&](float x, float y) {
    pts[71] = Point{x, y};
    return GazeOfEye(pts);
  };
  EXPECT_NEAR(gaze(32, 32).first, 0, 1e-4);
  EXPECT_NEAR(gaze(32, 32).second, 0, 1e-4);
  // Half of the half-width to the right: asin(0.5 x 1.25) = 38.7 degrees, looking right.
  EXPECT_NEAR(gaze(39, 32).first, 38.68, 0.05);
  EXPECT_NEAR(gaze(25, 32).first, -38.68, 0.05);
  // Iris above the centre: looking up (positive pitch); far out: clamped to 90.
  EXPECT_GT(gaze(32, 29).second, 10);
  EXPECT_LT(gaze(32, 35).second, -10);
  EXPECT_NEAR(gaze(60, 32).first, 90, 1e-3);
  EXPECT_EQ(GazeOfEye({}).first, 0);
}

}  // namespace
}  // namespace stratus::runtime
