#include "services/sentiment/text/language_id.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace stratus::text {
namespace {

using ::testing::ElementsAre;

// Small hand-made profiles: the identifier's logic, not the shipped data, is under test.
constexpr char kProfiles[] =
    "# test\n"
    "source\ttest profiles\n"
    "trigrams\tLatin\ten\teng\t th|the|he | an|and|nd |ing|ng | of|of \n"
    "trigrams\tLatin\tes\tspa\t de|de | la|la |os | el|el |que|ue \n"
    "trigrams\tLatin\tqu\tquz\t ka|kay|ay |pa |cha\n"
    "trigrams\tLatin\tqu\tquy\t ma|man|an |nqa|qa \n"
    "trigrams\tCyrillic\tru\trus\t пр|при| и |ост|сть\n"
    "script\tHan\tzh\tcmn\n"
    "script\tHiragana\tja\tjpn\n"
    "script\tKatakana\tja\tjpn\n"
    "script\tHangul\tko\tkor\n";

std::unique_ptr<LanguageIdentifier> Make(LanguageIdentifier::Options o = {}) {
  auto id = LanguageIdentifier::FromString(kProfiles, o);
  EXPECT_TRUE(id.ok()) << id.status();
  return std::move(*id);
}

TEST(LanguageIdTest, ParsesProfiles) {
  auto id = Make();
  EXPECT_EQ(id->source(), "test profiles");
  EXPECT_THAT(id->Languages(), ElementsAre("en", "es", "ja", "ko", "qu", "ru", "zh"));
}

TEST(LanguageIdTest, RejectsBadFiles) {
  EXPECT_FALSE(LanguageIdentifier::FromString("", {}).ok());
  EXPECT_FALSE(LanguageIdentifier::FromString("trigrams\tNoSuchScript\txx\txxx\tabc\n", {}).ok());
  EXPECT_FALSE(LanguageIdentifier::FromString("trigrams\tLatin\ten\teng\tab|abc\n", {}).ok());
  EXPECT_FALSE(LanguageIdentifier::FromString("weird\tLatin\n", {}).ok());
  auto missing = LanguageIdentifier::Create({.profiles_path = "/nonexistent/profiles.tsv"});
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
}

TEST(LanguageIdTest, RanksTrigramLanguages) {
  auto id = Make();
  auto en = id->Identify("The king and the thing of nothing");
  ASSERT_FALSE(en.empty());
  EXPECT_EQ(en[0].code, "en");
  auto es = id->Identify("El perro de la casa que os quiere");
  ASSERT_FALSE(es.empty());
  EXPECT_EQ(es[0].code, "es");
  float sum = 0;
  for (const auto& l : es) {
    EXPECT_GT(l.score, 0);
    EXPECT_LE(l.score, 1);
    sum += l.score;
  }
  EXPECT_LE(sum, 1.0001f);
}

TEST(LanguageIdTest, ProfilesSharingACodeAnswerOnce) {
  auto id = Make({.min_score = 0});
  auto r = id->Identify("manqa kaypa");
  int qu = 0;
  for (const auto& l : r) qu += l.code == "qu";
  EXPECT_EQ(qu, 1);
}

TEST(LanguageIdTest, ScriptsOfOneLanguage) {
  auto id = Make();
  EXPECT_EQ(id->Identify("我们今天去公园")[0].code, "zh");
  EXPECT_EQ(id->Identify("今日は公園に行きます")[0].code, "ja");
  EXPECT_EQ(id->Identify("오늘은 공원에 갑니다")[0].code, "ko");
  EXPECT_EQ(id->Identify("привет")[0].code, "ru");
  EXPECT_FLOAT_EQ(id->Identify("안녕하세요")[0].score, 1.0f);
}

TEST(LanguageIdTest, MixedScriptsShareTheScore) {
  auto id = Make();
  // 9 Latin letters, 2 Hangul letters.
  auto r = id->Identify("the theand 안녕");
  ASSERT_GE(r.size(), 2u);
  EXPECT_EQ(r[0].code, "en");
  float ko = 0;
  for (const auto& l : r) ko += l.code == "ko" ? l.score : 0;
  EXPECT_NEAR(ko, 2.0f / 11.0f, 1e-5);
}

TEST(LanguageIdTest, NoLettersNoLanguage) {
  auto id = Make();
  EXPECT_TRUE(id->Identify("12345 !!! :-) 😀").empty());
  EXPECT_TRUE(id->Identify("\xFF\xFE").empty());
  EXPECT_TRUE(id->Identify("").empty());
}

TEST(LanguageIdTest, ResultCountIsBounded) {
  auto id = Make({.min_score = 0, .max_results = 2});
  EXPECT_LE(id->Identify("the de la kay man").size(), 2u);
}

}  // namespace
}  // namespace stratus::text
