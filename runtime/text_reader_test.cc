// TextReader on rendered text: words found, ids and parent ids consistent, light-on-dark too.
#include "runtime/text_reader.h"

#include <gtest/gtest.h>

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
