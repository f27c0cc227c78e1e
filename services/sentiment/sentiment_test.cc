// The service's logic without a network or a database: Comprehend's limits and error types in
// the core, their gRPC reasons in the adapter, and their JSON shapes on the AWS endpoint
// (signature checks off: common/aws tests those). The model is the keyword stand-in; the real
// model is tested in sentiment_model_test.cc.
#include "services/sentiment/sentiment.h"

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
#include "services/sentiment/testing/keyword_classifier.h"

namespace stratus::sentiment {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using json = nlohmann::json;

class SentimentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SentimentAnalyzer::Options o;
    o.metrics = &registry_;
    auto a = SentimentAnalyzer::Create(o);
    ASSERT_TRUE(a.ok()) << a.status();
    analyzer_ = std::move(*a);
    model_ = std::make_shared<testing::KeywordClassifier>();
    analyzer_->SetClassifier(model_);
  }

  v1::BatchDetectSentimentRequest Batch(const std::vector<std::string>& texts,
                                        const std::string& language = "en") {
    v1::BatchDetectSentimentRequest r;
    for (const auto& t : texts) r.add_text_list(t);
    r.set_language_code(language);
    return r;
  }
  absl::StatusOr<v1::DetectSentimentResponse> Detect(const std::string& text,
                                                     const std::string& language = "en") {
    v1::DetectSentimentRequest r;
    r.set_text(text);
    r.set_language_code(language);
    return analyzer_->DetectSentiment(r);
  }

  metrics::Registry registry_;
  std::unique_ptr<SentimentAnalyzer> analyzer_;
  std::shared_ptr<testing::KeywordClassifier> model_;
};

TEST(Utf8Test, AcceptsWellFormedAndRefusesMalformed) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));  // é € 😀
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));                           // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation byte
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong, 3 bytes
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("ok \xe2\x82"));       // truncated at the end
}

TEST_F(SentimentTest, DetectSentimentScoresAndPicksTheArgMax) {
  auto r = Detect("I love this phone");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->sentiment(), v1::Sentiment::POSITIVE);
  EXPECT_FLOAT_EQ(r->sentiment_score().positive(), 0.85f);
  auto n = Detect("what an awful day");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->sentiment(), v1::Sentiment::NEGATIVE);
  auto m = Detect("good screen but awful battery");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->sentiment(), v1::Sentiment::MIXED);
  // An empty language code means English.
  EXPECT_TRUE(Detect("the bus is late", "").ok());
}

TEST_F(SentimentTest, DetectSentimentRefusesBadInputWithComprehendErrors) {
  auto empty = Detect("");
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(aws::IsAwsError(empty.status(), "InvalidRequestException")) << empty.status();

  EXPECT_TRUE(Detect(std::string(kMaxTextBytes, 'a')).ok());
  auto big = Detect(std::string(kMaxTextBytes + 1, 'a'));
  EXPECT_TRUE(aws::IsAwsError(big.status(), "TextSizeLimitExceededException")) << big.status();
  EXPECT_THAT(big.status().message(), HasSubstr("5001 bytes"));
  // The limit is on UTF-8 bytes, not characters: 2,500 two-byte characters fit, one more
  // byte does not.
  std::string accents;
  for (int i = 0; i < 2500; ++i) accents += "\xc3\xa9";
  EXPECT_TRUE(Detect(accents).ok());
  EXPECT_TRUE(aws::IsAwsError(Detect(accents + "a").status(), "TextSizeLimitExceededException"));

  auto bad = Detect("broken \xff text");
  EXPECT_TRUE(aws::IsAwsError(bad.status(), "InvalidRequestException")) << bad.status();
  EXPECT_THAT(bad.status().message(), HasSubstr("UTF-8"));

  auto fr = Detect("c'est bien", "fr");
  EXPECT_TRUE(aws::IsAwsError(fr.status(), "UnsupportedLanguageException")) << fr.status();
  // Refused before the model was asked.
  EXPECT_EQ(model_->texts_seen(), 2);
}

TEST_F(SentimentTest, NoModelMeansUnavailable) {
  SentimentAnalyzer::Options o;
  auto a = SentimentAnalyzer::Create(o);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)->ModelReadiness().code(), absl::StatusCode::kUnavailable);
  v1::DetectSentimentRequest r;
  r.set_text("hello");
  EXPECT_EQ((*a)->DetectSentiment(r).status().code(), absl::StatusCode::kUnavailable);
  // Bad input is still bad input while the model loads.
  r.set_text("");
  EXPECT_EQ((*a)->DetectSentiment(r).status().code(), absl::StatusCode::kInvalidArgument);
  (*a)->SetClassifier(std::make_shared<testing::KeywordClassifier>());
  EXPECT_TRUE((*a)->ModelReadiness().ok());
  EXPECT_EQ((*a)->GetTrends({}).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SentimentTest, BatchPutsBadTextsInTheErrorListInIndexOrder) {
  auto r = analyzer_->BatchDetectSentiment(
      Batch({"great", "", std::string(kMaxTextBytes + 1, 'x'), "bad \xc3", "meh"}));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->result_list_size(), 2);
  EXPECT_EQ(r->result_list(0).index(), 0);
  EXPECT_EQ(r->result_list(0).sentiment(), v1::Sentiment::POSITIVE);
  EXPECT_EQ(r->result_list(1).index(), 4);
  EXPECT_EQ(r->result_list(1).sentiment(), v1::Sentiment::NEUTRAL);
  ASSERT_EQ(r->error_list_size(), 3);
  EXPECT_EQ(r->error_list(0).index(), 1);
  EXPECT_EQ(r->error_list(0).error_code(), "INVALID_REQUEST");
  EXPECT_EQ(r->error_list(1).index(), 2);
  EXPECT_EQ(r->error_list(1).error_code(), "TEXT_SIZE_LIMIT_EXCEEDED");
  EXPECT_EQ(r->error_list(2).index(), 3);
  EXPECT_EQ(r->error_list(2).error_code(), "INVALID_REQUEST");
  EXPECT_THAT(r->error_list(2).error_message(), HasSubstr("UTF-8"));
  // One forward for the whole batch.
  EXPECT_EQ(model_->calls(), 1);
  EXPECT_EQ(model_->texts_seen(), 2);
}

TEST_F(SentimentTest, BatchRequestLevelErrors) {
  std::vector<std::string> texts(kMaxBatchTexts, "fine");
  EXPECT_TRUE(analyzer_->BatchDetectSentiment(Batch(texts)).ok());
  texts.push_back("one too many");
  auto over = analyzer_->BatchDetectSentiment(Batch(texts));
  EXPECT_TRUE(aws::IsAwsError(over.status(), "BatchSizeLimitExceededException")) << over.status();
  EXPECT_EQ(over.status().code(), absl::StatusCode::kInvalidArgument);
  auto none = analyzer_->BatchDetectSentiment(Batch({}));
  EXPECT_TRUE(aws::IsAwsError(none.status(), "InvalidRequestException")) << none.status();
  auto lang = analyzer_->BatchDetectSentiment(Batch({"good"}, "de"));
  EXPECT_TRUE(aws::IsAwsError(lang.status(), "UnsupportedLanguageException"));
}

TEST_F(SentimentTest, ModelFailureFailsTheScorableItemsOnly) {
  model_->set_fail(true);
  auto r = analyzer_->BatchDetectSentiment(Batch({"good", "", "bad"}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->result_list_size(), 0);
  ASSERT_EQ(r->error_list_size(), 3);
  EXPECT_EQ(r->error_list(0).error_code(), "INTERNAL_SERVER_ERROR");
  EXPECT_EQ(r->error_list(1).error_code(), "INVALID_REQUEST");
  EXPECT_EQ(r->error_list(2).error_code(), "INTERNAL_SERVER_ERROR");
  EXPECT_EQ(Detect("good").status().code(), absl::StatusCode::kInternal);
}

TEST_F(SentimentTest, CountsResultsByTopicAndSentiment) {
  ASSERT_TRUE(Detect("good").ok());
  ASSERT_TRUE(analyzer_->BatchDetectSentiment(Batch({"great", "awful", ""})).ok());
  const std::string text = registry_.Serialize();
  EXPECT_THAT(text,
              HasSubstr("stratus_sentiment_results_total{sentiment=\"positive\",topic=\"\"} 2"));
  EXPECT_THAT(text,
              HasSubstr("stratus_sentiment_results_total{sentiment=\"negative\",topic=\"\"} 1"));
}

TEST_F(SentimentTest, GrpcAdapterAttachesTheComprehendReason) {
  SentimentServiceImpl service(analyzer_.get());
  grpc::ServerContext ctx;
  v1::DetectSentimentRequest req;
  v1::DetectSentimentResponse resp;
  req.set_text(std::string(kMaxTextBytes + 1, 'a'));
  grpc::Status s = service.DetectSentiment(&ctx, &req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ErrorReason(s), "TextSizeLimitExceededException");
  req.set_text("");
  EXPECT_EQ(ErrorReason(service.DetectSentiment(&ctx, &req, &resp)), "InvalidRequestException");
  req.set_text("ok");
  req.set_language_code("es");
  EXPECT_EQ(ErrorReason(service.DetectSentiment(&ctx, &req, &resp)), "UnsupportedLanguageException");
  v1::BatchDetectSentimentRequest batch = Batch(std::vector<std::string>(26, "x"));
  v1::BatchDetectSentimentResponse batch_resp;
  EXPECT_EQ(ErrorReason(service.BatchDetectSentiment(&ctx, &batch, &batch_resp)),
            "BatchSizeLimitExceededException");
  req.set_language_code("en");
  ASSERT_TRUE(service.DetectSentiment(&ctx, &req, &resp).ok());
  EXPECT_EQ(resp.sentiment(), v1::Sentiment::NEUTRAL);
}

class ComprehendEndpointTest : public SentimentTest {
 protected:
  void SetUp() override {
    SentimentTest::SetUp();
    aws::AwsJsonEndpoint::Options o;
    o.require_signature = false;
    o.errors = aws::ComprehendErrorDefaults();
    o.handler_threads = 0;
    auto e = aws::AwsJsonEndpoint::Create(o);
    ASSERT_TRUE(e.ok()) << e.status();
    endpoint_ = std::move(*e);
    RegisterComprehendOperations(endpoint_.get(), analyzer_.get());
  }
  HttpResponse Call(const std::string& op, const json& body) {
    HttpRequest r;
    r.method = "POST";
    r.path = "/";
    r.headers["x-amz-target"] = std::string(kComprehendTargetPrefix) + op;
    r.headers["content-type"] = "application/x-amz-json-1.1";
    r.body = body.dump();
    return endpoint_->Handle(r);
  }
  static json Body(const HttpResponse& r) { return json::parse(r.body); }
  std::unique_ptr<aws::AwsJsonEndpoint> endpoint_;
};

TEST_F(ComprehendEndpointTest, DetectSentimentAnswersComprehendsShape) {
  HttpResponse r = Call("DetectSentiment", {{"Text", "I love it"}, {"LanguageCode", "en"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json b = Body(r);
  EXPECT_EQ(b["Sentiment"], "POSITIVE");
  EXPECT_EQ(b["SentimentScore"]["Positive"].get<double>(), 0.85);  // shortest form of 0.85f
  EXPECT_EQ(b["SentimentScore"].size(), 4u);
  // LanguageCode may be left out.
  EXPECT_EQ(Call("DetectSentiment", {{"Text", "sad"}}).status, 200);
}

TEST_F(ComprehendEndpointTest, ErrorsHaveComprehendTypes) {
  auto type = [&](const std::string& op, const json& body) {
    HttpResponse r = Call(op, body);
    EXPECT_EQ(r.status, 400) << r.body;
    return Body(r)["__type"].get<std::string>();
  };
  EXPECT_EQ(type("DetectSentiment", {{"Text", std::string(5001, 'a')}, {"LanguageCode", "en"}}),
            "TextSizeLimitExceededException");
  EXPECT_EQ(type("DetectSentiment", {{"Text", ""}, {"LanguageCode", "en"}}),
            "InvalidRequestException");
  EXPECT_EQ(type("DetectSentiment", {{"LanguageCode", "en"}}), "InvalidRequestException");
  EXPECT_EQ(type("DetectSentiment", {{"Text", 5}}), "SerializationException");
  EXPECT_EQ(type("DetectSentiment", {{"Text", "hola"}, {"LanguageCode", "es"}}),
            "UnsupportedLanguageException");
  EXPECT_EQ(type("BatchDetectSentiment",
                 {{"TextList", std::vector<std::string>(26, "a")}, {"LanguageCode", "en"}}),
            "BatchSizeLimitExceededException");
  EXPECT_EQ(type("BatchDetectSentiment", {{"TextList", json::array()}}), "InvalidRequestException");
}

TEST_F(ComprehendEndpointTest, BatchAnswersResultAndErrorLists) {
  HttpResponse r = Call(
      "BatchDetectSentiment",
      {{"TextList", {"great", "", "terrible", std::string(5001, 'b')}}, {"LanguageCode", "en"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json b = Body(r);
  ASSERT_EQ(b["ResultList"].size(), 2u);
  EXPECT_EQ(b["ResultList"][0]["Index"], 0);
  EXPECT_EQ(b["ResultList"][0]["Sentiment"], "POSITIVE");
  EXPECT_EQ(b["ResultList"][1]["Index"], 2);
  EXPECT_EQ(b["ResultList"][1]["Sentiment"], "NEGATIVE");
  ASSERT_EQ(b["ErrorList"].size(), 2u);
  EXPECT_EQ(b["ErrorList"][0]["Index"], 1);
  EXPECT_EQ(b["ErrorList"][0]["ErrorCode"], "INVALID_REQUEST");
  EXPECT_EQ(b["ErrorList"][1]["Index"], 3);
  EXPECT_EQ(b["ErrorList"][1]["ErrorCode"], "TEXT_SIZE_LIMIT_EXCEEDED");
  // All good: the error list is there, empty.
  json ok = Body(Call("BatchDetectSentiment", {{"TextList", {"fine"}}}));
  EXPECT_TRUE(ok["ErrorList"].is_array());
  EXPECT_TRUE(ok["ErrorList"].empty());
}

}  // namespace
}  // namespace stratus::sentiment
