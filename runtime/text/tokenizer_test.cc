#include "runtime/text/tokenizer.h"

#include <string>
#include <unordered_set>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/text/encoder.h"

namespace stratus::text {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Texts(std::string_view s, const TokenizerOptions& o = {}) {
  return TokenTexts(Tokenize(s, o));
}

TEST(TokenizerTest, UrlsMentionsNumbers) {
  EXPECT_THAT(Texts("@JohnDoe see https://t.co/abc?x=1 and www.example.com in 2024"),
              ElementsAre("<user>", "see", "<url>", "and", "<url>", "in", "<number>"));
}

TEST(TokenizerTest, EmojiKeptSkinToneDroppedRunsCollapsed) {
  auto t = Tokenize(
      "love it \xF0\x9F\x98\x82\xF0\x9F\x98\x82\xF0\x9F\x98\x82 \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD");
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[2].text, "\xF0\x9F\x98\x82");  // face with tears of joy
  EXPECT_EQ(t[2].kind, TokenKind::kEmoji);
  EXPECT_TRUE(t[2].elongated);
  EXPECT_EQ(t[3].text, "\xF0\x9F\x91\x8D");  // thumbs up without the skin tone
  EXPECT_FALSE(t[3].elongated);
}

TEST(TokenizerTest, Emoticons) {
  EXPECT_THAT(Texts("great day :-) :))) <3 ;) :-( XD :'( ^_^"),
              ElementsAre("great", "day", ":)", ":)", "<3", ";)", ":(", "XD", ":'(", "^_^"));
  // Glued to a word, and not mistaken inside words or times.
  EXPECT_THAT(Texts("thanks:) at 10:30"),
              ElementsAre("thanks", ":)", "at", "<number>", ":", "<number>"));
  auto t = Tokenize("so sad :(");
  EXPECT_EQ(t.back().kind, TokenKind::kEmoticon);
}

TEST(TokenizerTest, ElongationAndCaps) {
  std::unordered_set<std::string> dict = {"so", "good", "cool"};
  TokenizerOptions o;
  o.dictionary = &dict;
  auto t = Tokenize("This is SOOOO goooood and cooool", o);
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(t[0].text, "this");
  EXPECT_FALSE(t[0].all_caps);
  EXPECT_EQ(t[2].text, "so");  // "soo" is not a word, "so" is
  EXPECT_TRUE(t[2].all_caps);
  EXPECT_TRUE(t[2].elongated);
  EXPECT_EQ(t[3].text, "good");
  EXPECT_TRUE(t[3].elongated);
  EXPECT_FALSE(t[3].all_caps);
  EXPECT_EQ(t[5].text, "cool");
  // Without a dictionary runs are cut to two letters.
  EXPECT_THAT(Texts("yesssss"), ElementsAre("yess"));
  // A single capital is not shouting.
  EXPECT_FALSE(Tokenize("I")[0].all_caps);
}

TEST(TokenizerTest, HashtagsSplit) {
  EXPECT_THAT(
      Texts("#HappyBirthday2u #NASA_rocks"),
      ElementsAre("<hashtag>", "happy", "birthday", "<number>", "u", "<hashtag>", "nasa", "rocks"));
  std::unordered_set<std::string> dict = {"love", "this", "game"};
  TokenizerOptions o;
  o.dictionary = &dict;
  EXPECT_THAT(Texts("#lovethisgame", o), ElementsAre("<hashtag>", "love", "this", "game"));
  auto t = Tokenize("#win");
  EXPECT_TRUE(t[1].in_hashtag);
}

TEST(TokenizerTest, ContractionsMatchPennTreebank) {
  EXPECT_THAT(Texts("I don't think it's good"),
              ElementsAre("i", "do", "n't", "think", "it", "'s", "good"));
  // SST is already tokenised this way: the same tokens come out.
  EXPECT_THAT(Texts("i do n't think it 's good"),
              ElementsAre("i", "do", "n't", "think", "it", "'s", "good"));
  EXPECT_THAT(Texts("can\xE2\x80\x99t"), ElementsAre("ca", "n't"));
}

TEST(TokenizerTest, PunctuationEntitiesAndBadUtf8) {
  auto t = Tokenize("wow!!! really?? ok... &amp; fine\xFF\xFE.");
  EXPECT_THAT(TokenTexts(t), ElementsAre("wow", "!", "really", "?", "ok", "...", "fine", "."));
  EXPECT_TRUE(t[1].elongated);
  EXPECT_TRUE(t[3].elongated);
  EXPECT_FALSE(t[7].elongated);
  EXPECT_TRUE(Tokenize("").empty());
}

TEST(EncoderTest, NegationSignalsAndClauses) {
  Features f = Featurize("The screen is not good, but I LOVE the battery!!", nullptr, 8);
  EXPECT_THAT(f.tokens, ElementsAre("the", "screen", "is", "not", "NOT_good", "but", "i", "love",
                                    "<allcaps>", "the", "battery", "!", "<!!>"));
  EXPECT_THAT(f.clause, ElementsAre(0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
}

TEST(EncoderTest, IdsBigramsPaddingAndTruncation) {
  EncoderOptions o;
  o.vocab = {"<pad>", "<unk>", "good", "movie"};
  o.bigram_buckets = 10;
  o.max_tokens = 4;
  auto enc = TextEncoder::Create(o);
  ASSERT_TRUE(enc.ok());
  auto e = (*enc)->Encode("good movie. bad");
  // good, movie, bigram(good movie), <unk>(bad) in clause 1: no bigram across clauses.
  ASSERT_EQ(e.ids.size(), 4u);
  EXPECT_EQ(e.ids[0], 2);
  EXPECT_EQ(e.ids[1], 3);
  EXPECT_GE(e.ids[2], 4);
  EXPECT_LT(e.ids[2], 14);
  EXPECT_EQ(e.ids[3], 1);
  EXPECT_THAT(e.clauses, ElementsAre(0, 0, 0, 1));
  std::vector<int64_t> ids, clauses;
  int64_t t = 0;
  (*enc)->EncodeBatch({"good", "", "good movie"}, &ids, &clauses, &t);
  EXPECT_EQ(t, 3);
  EXPECT_THAT(ids, ElementsAre(2, 0, 0, 1, 0, 0, 2, 3, e.ids[2]));
  EXPECT_FALSE(TextEncoder::Create(EncoderOptions{}).ok());
}

}  // namespace
}  // namespace stratus::text
