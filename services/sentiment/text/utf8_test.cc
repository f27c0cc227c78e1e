#include "services/sentiment/text/utf8.h"

#include <gtest/gtest.h>

namespace stratus::text {
namespace {

TEST(Utf8Test, DecodesWithByteOffsets) {
  const std::string s = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";  // a é € 😀
  std::vector<CodePoint> cps = DecodeUtf8(s);
  ASSERT_EQ(cps.size(), 4u);
  EXPECT_EQ(cps[1].value, U'\u00E9');
  EXPECT_EQ(cps[2].byte_offset, 3u);
  EXPECT_EQ(cps[3].value, U'\U0001F600');
  EXPECT_EQ(cps[3].byte_length, 4);
}

TEST(Utf8Test, InvalidBytesDecodeOneByOne) {
  std::vector<CodePoint> cps = DecodeUtf8("\xC3x\xFF");
  ASSERT_EQ(cps.size(), 3u);
  EXPECT_EQ(cps[0].value, U'\uFFFD');
  EXPECT_EQ(cps[1].value, U'x');
  EXPECT_EQ(cps[2].value, U'\uFFFD');
}

TEST(Utf8Test, CodePointOffsets) {
  const std::string s =
      "\xE2\x82\xAC"
      "ab\xF0\x9F\x98\x80"
      "c";  // € a b 😀 c
  CodePointOffsets o(s);
  EXPECT_EQ(o.At(0), 0);
  EXPECT_EQ(o.At(3), 1);
  EXPECT_EQ(o.At(5), 3);
  EXPECT_EQ(o.At(9), 4);
  EXPECT_EQ(o.At(10), 5);
  EXPECT_EQ(o.At(99), 5);
}

TEST(Utf8Test, AppendRoundTrips) {
  std::string out;
  for (char32_t c : std::u32string(U"h\u00E9\u20AC\U0001F600")) AppendUtf8(c, &out);
  EXPECT_EQ(out, "h\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
}

}  // namespace
}  // namespace stratus::text
