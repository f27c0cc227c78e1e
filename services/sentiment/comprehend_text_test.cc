// DetectDominantLanguage, the PII calls and key phrases without a network: Comprehend's limits
// and error types in the core, their gRPC reasons, their JSON shapes on the AWS endpoint
// (signature checks off). The language profiles are a small hand-made set; the shipped ones are
// measured by stratus-bench-language.
#include "services/sentiment/comprehend_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/aws/aws_error.h"
#include "common/aws/json_protocol.h"
#include "common/status.h"
#include "services/sentiment/comprehend_endpoint.h"
#include "services/sentiment/sentiment_service.h"

namespace stratus::sentiment {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr char kProfiles[] =
    "source\ttest\n"
    "trigrams\tLatin\ten\teng\t th|the|he | an|and|nd |ing|ng | of|of \n"
    "trigrams\tLatin\tes\tspa\t de|de | la|la |os | el|el |que|ue \n"
    "script\tHan\tzh\tcmn\n";

std::string AwsType(const absl::Status& s) {
  return aws::ToAwsError(s, aws::ComprehendErrorDefaults()).type;
}

class ComprehendTextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto id = text::LanguageIdentifier::FromString(kProfiles, {});
    ASSERT_TRUE(id.ok()) << id.status();
    TextAnalyzer::Options o;
    o.languages = std::move(*id);
    auto t = TextAnalyzer::Create(o);
    ASSERT_TRUE(t.ok()) << t.status();
    text_ = std::move(*t);
  }
  std::unique_ptr<TextAnalyzer> text_;
};

TEST_F(ComprehendTextTest, DominantLanguage) {
  v1::DetectDominantLanguageRequest r;
  r.set_text("the king and the queen of the land");
  auto out = text_->DetectDominantLanguage(r);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_GE(out->languages_size(), 1);
  EXPECT_EQ(out->languages(0).language_code(), "en");
  EXPECT_GT(out->languages(0).score(), 0.5f);
}

TEST_F(ComprehendTextTest, DominantLanguageWithoutProfilesIsUnavailable) {
  auto t = TextAnalyzer::Create({});
  ASSERT_TRUE(t.ok());
  v1::DetectDominantLanguageRequest r;
  r.set_text("hello");
  EXPECT_TRUE(absl::IsUnavailable((*t)->DetectDominantLanguage(r).status()));
  EXPECT_FALSE((*t)->LanguageReadiness().ok());
  // The other analyses need no profiles.
  v1::DetectPiiEntitiesRequest p;
  p.set_text("bob@example.com");
  EXPECT_TRUE((*t)->DetectPiiEntities(p).ok());
}

TEST_F(ComprehendTextTest, SizeLimitsAreUtf8Bytes) {
  v1::DetectDominantLanguageRequest r;
  r.set_text(std::string(kMaxDocumentBytes, 'a'));
  EXPECT_TRUE(text_->DetectDominantLanguage(r).ok());
  // 33,334 euro signs: 100,002 bytes but 33,334 characters.
  std::string euros;
  for (int i = 0; i < 33334; ++i) euros += "\xE2\x82\xAC";
  r.set_text(euros);
  EXPECT_EQ(AwsType(text_->DetectDominantLanguage(r).status()), "TextSizeLimitExceededException");
  v1::DetectKeyPhrasesRequest k;
  k.set_text(euros);
  EXPECT_EQ(AwsType(text_->DetectKeyPhrases(k).status()), "TextSizeLimitExceededException");
  v1::DetectPiiEntitiesRequest p;
  p.set_text(euros);
  EXPECT_EQ(AwsType(text_->DetectPiiEntities(p).status()), "TextSizeLimitExceededException");
}

TEST_F(ComprehendTextTest, BadInputHasComprehendTypes) {
  v1::DetectPiiEntitiesRequest p;
  EXPECT_EQ(AwsType(text_->DetectPiiEntities(p).status()), "InvalidRequestException");
  p.set_text("\xFF");
  EXPECT_EQ(AwsType(text_->DetectPiiEntities(p).status()), "InvalidRequestException");
  p.set_text("hola");
  p.set_language_code("es");
  EXPECT_TRUE(text_->DetectPiiEntities(p).ok());
  p.set_language_code("fr");
  EXPECT_EQ(AwsType(text_->DetectPiiEntities(p).status()), "UnsupportedLanguageException");
  v1::ContainsPiiEntitiesRequest c;
  c.set_text("x");
  c.set_language_code("de");
  EXPECT_EQ(AwsType(text_->ContainsPiiEntities(c).status()), "UnsupportedLanguageException");
  v1::DetectKeyPhrasesRequest k;
  k.set_text("el perro");
  k.set_language_code("es");
  EXPECT_EQ(AwsType(text_->DetectKeyPhrases(k).status()), "UnsupportedLanguageException");
  v1::BatchDetectKeyPhrasesRequest bk;
  EXPECT_EQ(AwsType(text_->BatchDetectKeyPhrases(bk).status()), "InvalidRequestException");
  for (int i = 0; i < 26; ++i) bk.add_text_list("dog");
  auto too_many = text_->BatchDetectKeyPhrases(bk).status();
  EXPECT_EQ(AwsType(too_many), "BatchSizeLimitExceededException");
  EXPECT_THAT(too_many.message(), HasSubstr("26"));
  v1::BatchDetectDominantLanguageRequest bl;
  EXPECT_EQ(AwsType(text_->BatchDetectDominantLanguage(bl).status()), "InvalidRequestException");
}

TEST_F(ComprehendTextTest, BatchesSplitResultsAndErrorsInIndexOrder) {
  v1::BatchDetectDominantLanguageRequest r;
  r.add_text_list("the cat and the dog");
  r.add_text_list("");
  r.add_text_list(std::string(5001, 'a'));
  r.add_text_list("我们今天去公园");
  auto out = text_->BatchDetectDominantLanguage(r);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->result_list_size(), 2);
  EXPECT_EQ(out->result_list(0).index(), 0);
  EXPECT_EQ(out->result_list(0).languages(0).language_code(), "en");
  EXPECT_EQ(out->result_list(1).index(), 3);
  EXPECT_EQ(out->result_list(1).languages(0).language_code(), "zh");
  ASSERT_EQ(out->error_list_size(), 2);
  EXPECT_EQ(out->error_list(0).index(), 1);
  EXPECT_EQ(out->error_list(0).error_code(), "INVALID_REQUEST");
  EXPECT_EQ(out->error_list(1).index(), 2);
  EXPECT_EQ(out->error_list(1).error_code(), "TEXT_SIZE_LIMIT_EXCEEDED");

  v1::BatchDetectKeyPhrasesRequest k;
  k.add_text_list("the red car");
  k.add_text_list(std::string(5001, 'a'));
  auto phrases = text_->BatchDetectKeyPhrases(k);
  ASSERT_TRUE(phrases.ok());
  ASSERT_EQ(phrases->result_list_size(), 1);
  EXPECT_EQ(phrases->result_list(0).key_phrases(0).text(), "the red car");
  EXPECT_EQ(phrases->error_list(0).error_code(), "TEXT_SIZE_LIMIT_EXCEEDED");
}

TEST_F(ComprehendTextTest, ContainsPiiLabelsEachTypeOnce) {
  v1::ContainsPiiEntitiesRequest c;
  c.set_text("a@example.com b@example.com from 10.1.2.3");
  auto out = text_->ContainsPiiEntities(c);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->labels_size(), 2);
  EXPECT_EQ(out->labels(0).name(), "EMAIL");
  EXPECT_EQ(out->labels(1).name(), "IP_ADDRESS");
}

TEST_F(ComprehendTextTest, GrpcAdapterAttachesTheReason) {
  SentimentServiceImpl service(nullptr, 32, text_.get());
  grpc::ServerContext ctx;
  v1::DetectKeyPhrasesRequest k;
  v1::DetectKeyPhrasesResponse kr;
  k.set_text("");
  grpc::Status s = service.DetectKeyPhrases(&ctx, &k, &kr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ErrorReason(s), "InvalidRequestException");
  k.set_text("the big dog");
  ASSERT_TRUE(service.DetectKeyPhrases(&ctx, &k, &kr).ok());
  EXPECT_EQ(kr.key_phrases(0).text(), "the big dog");
  SentimentServiceImpl bare(nullptr);
  EXPECT_EQ(bare.DetectKeyPhrases(&ctx, &k, &kr).error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

class TextEndpointTest : public ComprehendTextTest {
 protected:
  void SetUp() override {
    ComprehendTextTest::SetUp();
    aws::AwsJsonEndpoint::Options o;
    o.require_signature = false;
    o.errors = aws::ComprehendErrorDefaults();
    o.handler_threads = 0;
    auto e = aws::AwsJsonEndpoint::Create(o);
    ASSERT_TRUE(e.ok()) << e.status();
    endpoint_ = std::move(*e);
    RegisterComprehendOperations(endpoint_.get(), nullptr, text_.get());
  }
  std::pair<int, json> Call(const std::string& op, const json& body) {
    HttpRequest r;
    r.method = "POST";
    r.path = "/";
    r.headers["x-amz-target"] = std::string(kComprehendTargetPrefix) + op;
    r.headers["content-type"] = "application/x-amz-json-1.1";
    r.body = body.dump();
    HttpResponse resp = endpoint_->Handle(r);
    return {resp.status, json::parse(resp.body)};
  }
  std::unique_ptr<aws::AwsJsonEndpoint> endpoint_;
};

TEST_F(TextEndpointTest, ComprehendShapes) {
  auto [s1, lang] = Call("DetectDominantLanguage", {{"Text", "the dog and the cat"}});
  ASSERT_EQ(s1, 200) << lang;
  EXPECT_EQ(lang["Languages"][0]["LanguageCode"], "en");
  EXPECT_TRUE(lang["Languages"][0]["Score"].is_number());

  auto [s2, pii] =
      Call("DetectPiiEntities", {{"Text", "é bob@example.com"}, {"LanguageCode", "en"}});
  ASSERT_EQ(s2, 200) << pii;
  EXPECT_EQ(pii["Entities"][0]["Type"], "EMAIL");
  EXPECT_EQ(pii["Entities"][0]["BeginOffset"], 2);
  EXPECT_EQ(pii["Entities"][0]["EndOffset"], 17);
  EXPECT_EQ(pii["Entities"][0]["Score"].get<double>(), 0.99);

  auto [s3, labels] =
      Call("ContainsPiiEntities", {{"Text", "bob@example.com"}, {"LanguageCode", "en"}});
  ASSERT_EQ(s3, 200) << labels;
  EXPECT_EQ(labels["Labels"][0]["Name"], "EMAIL");

  auto [s4, kp] = Call("DetectKeyPhrases", {{"Text", "the red car"}, {"LanguageCode", "en"}});
  ASSERT_EQ(s4, 200) << kp;
  EXPECT_EQ(kp["KeyPhrases"][0]["Text"], "the red car");
  EXPECT_EQ(kp["KeyPhrases"][0]["EndOffset"], 11);

  auto [s5, bkp] =
      Call("BatchDetectKeyPhrases", {{"TextList", {"the red car", ""}}, {"LanguageCode", "en"}});
  ASSERT_EQ(s5, 200) << bkp;
  EXPECT_EQ(bkp["ResultList"][0]["Index"], 0);
  EXPECT_EQ(bkp["ErrorList"][0]["ErrorCode"], "INVALID_REQUEST");

  auto [s6, bl] = Call("BatchDetectDominantLanguage", {{"TextList", {"我们今天去公园"}}});
  ASSERT_EQ(s6, 200) << bl;
  EXPECT_EQ(bl["ResultList"][0]["Languages"][0]["LanguageCode"], "zh");
  EXPECT_TRUE(bl["ErrorList"].is_array());
}

TEST_F(TextEndpointTest, Errors) {
  EXPECT_EQ(Call("DetectKeyPhrases", {{"Text", "x"}, {"LanguageCode", "fr"}}).second["__type"],
            "UnsupportedLanguageException");
  EXPECT_EQ(Call("DetectPiiEntities", {{"LanguageCode", "en"}}).second["__type"],
            "InvalidRequestException");
  EXPECT_EQ(Call("BatchDetectDominantLanguage", {{"TextList", std::vector<std::string>(26, "a")}})
                .second["__type"],
            "BatchSizeLimitExceededException");
  EXPECT_EQ(Call("DetectDominantLanguage", {{"Text", 3}}).second["__type"],
            "SerializationException");
}

}  // namespace
}  // namespace stratus::sentiment
