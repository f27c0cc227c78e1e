#include "services/sentiment/comprehend_endpoint.h"

#include <charconv>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/status.h"

namespace stratus::sentiment {
namespace {

using json = nlohmann::json;

// The double whose shortest decimal form is the float's: what a reader of the JSON expects.
double ShortestDouble(float v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf) - 1, v);
  *r.ptr = '\0';
  return std::strtod(buf, nullptr);
}

}  // namespace

json ScoreToJson(const v1::SentimentScore& s) {
  return json{{"Positive", ShortestDouble(s.positive())},
              {"Negative", ShortestDouble(s.negative())},
              {"Neutral", ShortestDouble(s.neutral())},
              {"Mixed", ShortestDouble(s.mixed())}};
}

void RegisterComprehendOperations(aws::AwsJsonEndpoint* endpoint,
                                  const SentimentAnalyzer* analyzer) {
  const std::string prefix = kComprehendTargetPrefix;
  endpoint->Register(
      prefix + "DetectSentiment", [analyzer](const json& req) -> absl::StatusOr<json> {
        v1::DetectSentimentRequest request;
        STRATUS_ASSIGN_OR_RETURN(*request.mutable_text(),
                                 aws::RequiredMember<std::string>(req, "Text"));
        STRATUS_ASSIGN_OR_RETURN(*request.mutable_language_code(),
                                 aws::OptionalMember<std::string>(req, "LanguageCode", "en"));
        STRATUS_ASSIGN_OR_RETURN(v1::DetectSentimentResponse r, analyzer->DetectSentiment(request));
        return json{{"Sentiment", SentimentName(r.sentiment())},
                    {"SentimentScore", ScoreToJson(r.sentiment_score())}};
      });
  endpoint->Register(
      prefix + "BatchDetectSentiment", [analyzer](const json& req) -> absl::StatusOr<json> {
        v1::BatchDetectSentimentRequest request;
        STRATUS_ASSIGN_OR_RETURN(std::vector<std::string> texts,
                                 aws::RequiredMember<std::vector<std::string>>(req, "TextList"));
        for (std::string& t : texts) request.add_text_list(std::move(t));
        STRATUS_ASSIGN_OR_RETURN(*request.mutable_language_code(),
                                 aws::OptionalMember<std::string>(req, "LanguageCode", "en"));
        STRATUS_ASSIGN_OR_RETURN(v1::BatchDetectSentimentResponse r,
                                 analyzer->BatchDetectSentiment(request));
        json results = json::array();
        for (const auto& item : r.result_list()) {
          results.push_back(json{{"Index", item.index()},
                                 {"Sentiment", SentimentName(item.sentiment())},
                                 {"SentimentScore", ScoreToJson(item.sentiment_score())}});
        }
        json errors = json::array();
        for (const auto& e : r.error_list()) {
          errors.push_back(json{{"Index", e.index()},
                                {"ErrorCode", e.error_code()},
                                {"ErrorMessage", e.error_message()}});
        }
        return json{{"ResultList", std::move(results)}, {"ErrorList", std::move(errors)}};
      });
}

}  // namespace stratus::sentiment
