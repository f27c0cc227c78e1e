// DetectText's filter checks and response shapes (detect_text.h), on reader output made here.
#include "services/recognition/detect_text.h"

#include <gtest/gtest.h>

namespace stratus::recognition {
namespace {

namespace v1 = ::stratus::v1;
using runtime::TextDetection;

TextDetection Det(TextDetection::Type type, const std::string& text, float confidence,
                  cv::Rect box, int id, int parent) {
  TextDetection d;
  d.type = type;
  d.text = text;
  d.confidence = confidence;
  d.box = box;
  d.polygon = runtime::TextPolygon(cv::Rect2f(box), 0);
  d.id = id;
  d.parent_id = parent;
  return d;
}

// A 1000 x 500 image: line 0 "OPEN NOW" at the top left, line 3 "EXIT" at the bottom right.
std::vector<TextDetection> Sample() {
  using T = TextDetection::Type;
  return {Det(T::kLine, "OPEN NOW", 90, {100, 50, 300, 50}, 0, -1),
          Det(T::kWord, "OPEN", 95, {100, 50, 140, 50}, 1, 0),
          Det(T::kWord, "NOW", 40, {260, 60, 140, 40}, 2, 0),
          Det(T::kLine, "EXIT", 80, {700, 400, 200, 80}, 3, -1),
          Det(T::kWord, "EXIT", 80, {700, 400, 200, 80}, 4, 3)};
}

TEST(DetectTextTest, ShapesLinesThenWordsWithParentsAndRatios) {
  auto out = ShapeTextDetections(Sample(), 1000, 500, {});
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0].type(), v1::TextTypes::LINE);
  EXPECT_EQ(out[0].detected_text(), "OPEN NOW");
  EXPECT_FALSE(out[0].has_parent_id());
  EXPECT_EQ(out[1].type(), v1::TextTypes::LINE);
  EXPECT_EQ(out[1].id(), 1);
  for (int i = 2; i < 5; ++i) {
    EXPECT_EQ(out[i].type(), v1::TextTypes::WORD);
    EXPECT_EQ(out[i].id(), i);
    ASSERT_TRUE(out[i].has_parent_id());
  }
  EXPECT_EQ(out[2].parent_id(), 0);
  EXPECT_EQ(out[4].parent_id(), 1);
  const auto& b = out[1].geometry().bounding_box();
  EXPECT_FLOAT_EQ(b.left(), 0.7f);
  EXPECT_FLOAT_EQ(b.top(), 0.8f);
  EXPECT_FLOAT_EQ(b.width(), 0.2f);
  EXPECT_FLOAT_EQ(b.height(), 0.16f);
  ASSERT_EQ(out[1].geometry().polygon_size(), 4);
  EXPECT_FLOAT_EQ(out[1].geometry().polygon(2).x(), 0.9f);  // bottom-right
  EXPECT_FLOAT_EQ(out[1].geometry().polygon(2).y(), 0.96f);
  EXPECT_FLOAT_EQ(out[1].geometry().polygon(3).x(), 0.7f);  // bottom-left
}

TEST(DetectTextTest, WordFilterDropsWordsAndRebuildsLines) {
  v1::DetectTextFilters f;
  f.mutable_word_filter()->set_min_confidence(50);
  auto out = ShapeTextDetections(Sample(), 1000, 500, f);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].detected_text(), "OPEN");
  EXPECT_FLOAT_EQ(out[0].confidence(), 95);
  f.mutable_word_filter()->set_min_bounding_box_height(0.15f);  // only EXIT is 0.16 high
  out = ShapeTextDetections(Sample(), 1000, 500, f);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].detected_text(), "EXIT");
  EXPECT_EQ(out[1].parent_id(), 0);
  v1::DetectTextFilters wide;
  wide.mutable_word_filter()->set_min_bounding_box_width(0.15f);  // OPEN and NOW are 0.14
  EXPECT_EQ(ShapeTextDetections(Sample(), 1000, 500, wide).size(), 2u);
}

TEST(DetectTextTest, RegionsOfInterestKeepWordsMostlyInside) {
  v1::DetectTextFilters f;
  auto* box = f.add_regions_of_interest()->mutable_bounding_box();
  box->set_left(0.05f);
  box->set_top(0);
  box->set_width(0.2f);  // 50..250 px: all of OPEN, none of NOW
  box->set_height(0.5f);
  auto out = ShapeTextDetections(Sample(), 1000, 500, f);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].detected_text(), "OPEN");
  // A polygon around the bottom-right quarter: EXIT's centre.
  auto* poly = f.add_regions_of_interest();
  for (auto [x, y] : {std::pair{0.5f, 0.5f}, {1.0f, 0.5f}, {1.0f, 1.0f}, {0.5f, 1.0f}}) {
    auto* p = poly->add_polygon();
    p->set_x(x);
    p->set_y(y);
  }
  out = ShapeTextDetections(Sample(), 1000, 500, f);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[1].detected_text(), "EXIT");
}

TEST(DetectTextTest, LimitsOf50LinesAnd100Words) {
  std::vector<TextDetection> many;
  for (int i = 0; i < 80; ++i) {
    many.push_back(Det(TextDetection::Type::kLine, "A B", 90, {0, i * 10, 20, 8}, 3 * i, -1));
    for (int w = 1; w <= 2; ++w) {
      many.push_back(Det(TextDetection::Type::kWord, w == 1 ? "A" : "B", 90,
                         {(w - 1) * 10, i * 10, 8, 8}, 3 * i + w, 3 * i));
    }
  }
  auto out = ShapeTextDetections(many, 1000, 1000, {});
  int lines = 0, words = 0;
  for (const auto& t : out) (t.type() == v1::TextTypes::LINE ? lines : words)++;
  EXPECT_EQ(lines, 50);
  EXPECT_EQ(words, 100);
}

TEST(DetectTextTest, FilterChecks) {
  EXPECT_TRUE(CheckTextFilters({}).ok());
  v1::DetectTextFilters f;
  f.mutable_word_filter()->set_min_confidence(101);
  EXPECT_EQ(CheckTextFilters(f).code(), absl::StatusCode::kInvalidArgument);
  f.mutable_word_filter()->set_min_confidence(100);
  EXPECT_TRUE(CheckTextFilters(f).ok());
  f.mutable_word_filter()->set_min_bounding_box_height(1.5f);
  EXPECT_FALSE(CheckTextFilters(f).ok());
  f.mutable_word_filter()->set_min_bounding_box_height(0.5f);
  f.mutable_word_filter()->set_min_bounding_box_width(-0.1f);
  EXPECT_FALSE(CheckTextFilters(f).ok());
  f.mutable_word_filter()->clear_min_bounding_box_width();
  auto* r = f.add_regions_of_interest();
  EXPECT_FALSE(CheckTextFilters(f).ok());  // neither box nor polygon
  r->mutable_bounding_box()->set_width(0.5f);
  r->mutable_bounding_box()->set_height(0.5f);
  EXPECT_TRUE(CheckTextFilters(f).ok());
  r->mutable_bounding_box()->set_left(2);
  EXPECT_FALSE(CheckTextFilters(f).ok());
  r->mutable_bounding_box()->set_left(0);
  r->add_polygon();
  EXPECT_FALSE(CheckTextFilters(f).ok());  // both
  r->clear_bounding_box();
  EXPECT_FALSE(CheckTextFilters(f).ok());  // a polygon of one point
  for (int i = 0; i < 10; ++i) f.add_regions_of_interest()->mutable_bounding_box()->set_width(1);
  EXPECT_FALSE(CheckTextFilters(f).ok());  // 11 regions
}

}  // namespace
}  // namespace stratus::recognition
