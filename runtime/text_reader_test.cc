// TextReader on rendered text: words found, ids and parent ids consistent, light-on-dark too.
#include "runtime/text_reader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "opencv2/imgproc.hpp"

namespace stratus::runtime {
namespace {

cv::Mat Render(const std::string& text, bool light_on_dark) {
  cv::Mat img(200, 900, CV_8UC3,
              light_on_dark ? cv::Scalar(30, 30, 30) : cv::Scalar(240, 240, 240));
  cv::putText(img, text, {20, 120}, cv::FONT_HERSHEY_SIMPLEX, 2.0,
              light_on_dark ? cv::Scalar(250, 250, 250) : cv::Scalar(10, 10, 10), 4, cv::LINE_AA);
  return img;
}

TEST(TextReaderTest, ReadsWordsWithLineParents) {
  auto reader = TextReader::Create({});
  ASSERT_TRUE(reader.ok()) << reader.status();
  for (bool inverse : {false, true}) {
    auto got = (*reader)->Read(Render("OPEN DAILY 24 HOURS", inverse));
    ASSERT_TRUE(got.ok()) << got.status();
    std::set<std::string> words;
    std::set<int> line_ids;
    for (const auto& d : *got) {
      if (d.type == TextDetection::Type::kLine)
        line_ids.insert(d.id);
      else {
        words.insert(d.text);
        EXPECT_TRUE(line_ids.count(d.parent_id)) << d.text;
        EXPECT_GT(d.confidence, 0);
        EXPECT_GT(d.box.area(), 0);
      }
    }
    EXPECT_TRUE(words.count("OPEN")) << inverse;
    EXPECT_TRUE(words.count("HOURS")) << inverse;
  }
}

}  // namespace
}  // namespace stratus::runtime

namespace stratus::runtime {
namespace {

TEST(TextPolygonTest, LevelTextGivesTheBoxCorners) {
  auto p = TextPolygon(cv::Rect2f(10, 20, 100, 30), 0);
  EXPECT_EQ(p[0], cv::Point2f(10, 20));
  EXPECT_EQ(p[1], cv::Point2f(110, 20));
  EXPECT_EQ(p[2], cv::Point2f(110, 50));
  EXPECT_EQ(p[3], cv::Point2f(10, 50));
}

TEST(TextPolygonTest, RotatedTextTouchesTheBoxAndKeepsItsShape) {
  // Text 200 x 20 turned 20 degrees clockwise: its box, then the polygon back from it.
  const double a = 20 * M_PI / 180, L = 200, h = 20;
  const float W = L * std::cos(a) + h * std::sin(a), H = L * std::sin(a) + h * std::cos(a);
  auto p = TextPolygon(cv::Rect2f(0, 0, W, H), a);
  EXPECT_NEAR(cv::norm(p[1] - p[0]), L, 0.5);
  EXPECT_NEAR(cv::norm(p[3] - p[0]), h, 0.5);
  EXPECT_GT(p[1].y, p[0].y);  // the top edge goes down to the right
  for (const auto& q : p) {
    EXPECT_GE(q.x, -0.5f);
    EXPECT_LE(q.x, W + 0.5f);
    EXPECT_GE(q.y, -0.5f);
    EXPECT_LE(q.y, H + 0.5f);
  }
  // Too thin a box for 40 degrees: the box's corners.
  auto thin = TextPolygon(cv::Rect2f(0, 0, 100, 10), 40 * M_PI / 180);
  EXPECT_EQ(thin[2], cv::Point2f(100, 10));
}

}  // namespace
}  // namespace stratus::runtime
