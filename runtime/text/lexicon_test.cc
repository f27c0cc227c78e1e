#include "runtime/text/lexicon.h"

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace stratus::text {
namespace {

// The lexicons live in the shared data folder beside the repository (../shared/data).
std::string LexiconDir(const std::string& name) {
  const char* data = std::getenv("STRATUS_DATA");
  const char* src = std::getenv("STRATUS_SOURCE_DIR");
  std::string root = data ? data : std::string(src ? src : ".") + "/../shared/data";
  return root + "/sentiment/lexicons/" + name;
}

class VaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto v = Vader::Load(LexiconDir("vader"));
    ASSERT_TRUE(v.ok()) << v.status();
    vader_ = std::move(*v);
  }
  double Compound(const std::string& s) { return vader_->PolarityScores(s).compound; }
  std::unique_ptr<Vader> vader_;
};

// Reference values printed by vaderSentiment 3.3.2's own demo for these sentences.
TEST_F(VaderTest, MatchesReferenceImplementation) {
  EXPECT_NEAR(Compound("VADER is smart, handsome, and funny."), 0.8316, 1e-4);
  EXPECT_NEAR(Compound("VADER is smart, handsome, and funny!"), 0.8439, 1e-4);
  EXPECT_NEAR(Compound("VADER is very smart, handsome, and funny."), 0.8545, 1e-4);
  EXPECT_NEAR(Compound("VADER is VERY SMART, handsome, and FUNNY."), 0.9227, 1e-4);
  EXPECT_NEAR(Compound("VADER is VERY SMART, handsome, and FUNNY!!!"), 0.9342, 1e-4);
  EXPECT_NEAR(Compound("VADER is not smart, handsome, nor funny."), -0.7424, 1e-4);
  EXPECT_NEAR(Compound("The book was good."), 0.4404, 1e-4);
  EXPECT_NEAR(Compound("At least it isn't a horrible book."), 0.431, 1e-3);
  EXPECT_NEAR(Compound("The book was only kind of good."), 0.3832, 1e-4);
  EXPECT_NEAR(
      Compound(
          "The plot was good, but the characters are uncompelling and the dialog is not great."),
      -0.7042, 1e-4);
  EXPECT_NEAR(Compound("Today SUX!"), -0.5461, 1e-4);
  EXPECT_NEAR(Compound("Make sure you :) or :D today!"), 0.8633, 1e-4);
  EXPECT_NEAR(Compound("Not bad at all"), 0.431, 1e-3);
  EXPECT_EQ(Compound(""), 0.0);
  auto s = vader_->PolarityScores("VADER is smart, handsome, and funny.");
  EXPECT_NEAR(s.pos + s.neu + s.neg, 1.0, 1e-9);
  EXPECT_NEAR(s.pos, 0.746, 1e-3);
}

TEST_F(VaderTest, EmojiThroughDescriptions) {
  EXPECT_GT(Compound("\xF0\x9F\x98\x81"), 0.3);  // beaming face with smiling eyes
  EXPECT_LT(Compound("\xF0\x9F\x98\xA0"), 0.0);  // angry face
}

TEST(AfinnTest, WordsPhrasesEmoticons) {
  auto a = Afinn::Load(LexiconDir("afinn"));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*a)->Score("This is utterly excellent!"), 3);
  EXPECT_EQ((*a)->Score("bad, BAD movie"), -6);
  EXPECT_EQ((*a)->Score("it does not work"), -3);  // a phrase entry, not "work" alone
  EXPECT_EQ((*a)->Score("fine :)"), 2 + 2);
  EXPECT_EQ((*a)->Score("the table"), 0);
}

}  // namespace
}  // namespace stratus::text
