#include "services/sentiment/text/key_phrases.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace stratus::text {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Phrases(const std::string& text) {
  auto x = KeyPhraseExtractor::Create({});
  EXPECT_TRUE(x.ok());
  std::vector<std::string> out;
  for (const KeyPhrase& p : (*x)->Extract(text)) {
    EXPECT_GE(p.score, 0.5f);
    EXPECT_LE(p.score, 1.0f);
    out.push_back(p.text);
  }
  return out;
}

TEST(KeyPhrasesTest, NounPhrasesWithTheirDeterminers) {
  EXPECT_THAT(Phrases("I love the new phone, but the battery life is awful."),
              ElementsAre("the new phone", "the battery life"));
  EXPECT_THAT(Phrases("The meeting has been moved to Thursday at 3pm."),
              ElementsAre("The meeting", "Thursday", "3pm"));
}

TEST(KeyPhrasesTest, PronounsVerbsAndAdverbsAreNotPhrases) {
  EXPECT_THAT(Phrases("She really likes it."), ElementsAre());
  EXPECT_THAT(Phrases("We quickly walked home"), ElementsAre("home"));
}

TEST(KeyPhrasesTest, OfJoinsPhrasesAndProperNouns) {
  EXPECT_THAT(Phrases("He works for the Bank of America in New York"),
              ElementsAre("the Bank of America", "New York"));
}

TEST(KeyPhrasesTest, PunctuationSplitsPhrases) {
  EXPECT_THAT(Phrases("apples, oranges; bananas"), ElementsAre("apples", "oranges", "bananas"));
}

TEST(KeyPhrasesTest, OffsetsCountCodePoints) {
  auto x = KeyPhraseExtractor::Create({});
  ASSERT_TRUE(x.ok());
  auto p = (*x)->Extract("😀 the café menu");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].text, "the café menu");
  EXPECT_EQ(p[0].begin_offset, 2);
  EXPECT_EQ(p[0].end_offset, 15);
}

TEST(KeyPhrasesTest, AnyBytes) {
  auto x = KeyPhraseExtractor::Create({});
  ASSERT_TRUE(x.ok());
  EXPECT_TRUE((*x)->Extract("").empty());
  (*x)->Extract(std::string("\xFF\xC3 the dog\x80", 12));
}

}  // namespace
}  // namespace stratus::text
