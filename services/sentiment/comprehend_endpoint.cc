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

json ErrorsToJson(const google::protobuf::RepeatedPtrField<v1::BatchItemError>& list) {
  json errors = json::array();
  for (const auto& e : list) {
    errors.push_back(json{
        {"Index", e.index()}, {"ErrorCode", e.error_code()}, {"ErrorMessage", e.error_message()}});
  }
  return errors;
}

json LanguagesToJson(const google::protobuf::RepeatedPtrField<v1::DominantLanguage>& list) {
  json out = json::array();
  for (const auto& l : list) {
    out.push_back(json{{"LanguageCode", l.language_code()}, {"Score", ShortestDouble(l.score())}});
  }
  return out;
}

json KeyPhrasesToJson(const google::protobuf::RepeatedPtrField<v1::KeyPhrase>& list) {
  json out = json::array();
  for (const auto& k : list) {
    out.push_back(json{{"Text", k.text()},
                       {"Score", ShortestDouble(k.score())},
                       {"BeginOffset", k.begin_offset()},
                       {"EndOffset", k.end_offset()}});
  }
  return out;
}

// {Text, LanguageCode}: the two members of every single-text request.
template <typename Request>
absl::StatusOr<Request> TextRequest(const json& req, bool with_language) {
  Request request;
  STRATUS_ASSIGN_OR_RETURN(*request.mutable_text(), aws::RequiredMember<std::string>(req, "Text"));
  if constexpr (requires { request.mutable_language_code(); }) {
    if (with_language) {
      STRATUS_ASSIGN_OR_RETURN(*request.mutable_language_code(),
                               aws::OptionalMember<std::string>(req, "LanguageCode", "en"));
    }
  }
  return request;
}

template <typename Request>
absl::StatusOr<Request> TextListRequest(const json& req) {
  Request request;
  STRATUS_ASSIGN_OR_RETURN(std::vector<std::string> texts,
                           aws::RequiredMember<std::vector<std::string>>(req, "TextList"));
  for (std::string& t : texts) request.add_text_list(std::move(t));
  if constexpr (requires { request.mutable_language_code(); }) {
    STRATUS_ASSIGN_OR_RETURN(*request.mutable_language_code(),
                             aws::OptionalMember<std::string>(req, "LanguageCode", "en"));
  }
  return request;
}

void RegisterTextOperations(aws::AwsJsonEndpoint* endpoint, const TextAnalyzer* text) {
  const std::string prefix = kComprehendTargetPrefix;
  endpoint->Register(
      prefix + "DetectDominantLanguage", [text](const json& req) -> absl::StatusOr<json> {
        STRATUS_ASSIGN_OR_RETURN(auto request,
                                 TextRequest<v1::DetectDominantLanguageRequest>(req, false));
        STRATUS_ASSIGN_OR_RETURN(auto r, text->DetectDominantLanguage(request));
        return json{{"Languages", LanguagesToJson(r.languages())}};
      });
  endpoint->Register(
      prefix + "BatchDetectDominantLanguage", [text](const json& req) -> absl::StatusOr<json> {
        STRATUS_ASSIGN_OR_RETURN(auto request,
                                 TextListRequest<v1::BatchDetectDominantLanguageRequest>(req));
        STRATUS_ASSIGN_OR_RETURN(auto r, text->BatchDetectDominantLanguage(request));
        json results = json::array();
        for (const auto& item : r.result_list()) {
          results.push_back(
              json{{"Index", item.index()}, {"Languages", LanguagesToJson(item.languages())}});
        }
        return json{{"ResultList", std::move(results)},
                    {"ErrorList", ErrorsToJson(r.error_list())}};
      });
  endpoint->Register(prefix + "DetectPiiEntities", [text](const json& req) -> absl::StatusOr<json> {
    STRATUS_ASSIGN_OR_RETURN(auto request, TextRequest<v1::DetectPiiEntitiesRequest>(req, true));
    STRATUS_ASSIGN_OR_RETURN(auto r, text->DetectPiiEntities(request));
    json entities = json::array();
    for (const auto& e : r.entities()) {
      entities.push_back(json{{"Type", e.type()},
                              {"Score", ShortestDouble(e.score())},
                              {"BeginOffset", e.begin_offset()},
                              {"EndOffset", e.end_offset()}});
    }
    return json{{"Entities", std::move(entities)}};
  });
  endpoint->Register(
      prefix + "ContainsPiiEntities", [text](const json& req) -> absl::StatusOr<json> {
        STRATUS_ASSIGN_OR_RETURN(auto request,
                                 TextRequest<v1::ContainsPiiEntitiesRequest>(req, true));
        STRATUS_ASSIGN_OR_RETURN(auto r, text->ContainsPiiEntities(request));
        json labels = json::array();
        for (const auto& l : r.labels()) {
          labels.push_back(json{{"Name", l.name()}, {"Score", ShortestDouble(l.score())}});
        }
        return json{{"Labels", std::move(labels)}};
      });
  endpoint->Register(prefix + "DetectKeyPhrases", [text](const json& req) -> absl::StatusOr<json> {
    STRATUS_ASSIGN_OR_RETURN(auto request, TextRequest<v1::DetectKeyPhrasesRequest>(req, true));
    STRATUS_ASSIGN_OR_RETURN(auto r, text->DetectKeyPhrases(request));
    return json{{"KeyPhrases", KeyPhrasesToJson(r.key_phrases())}};
  });
  endpoint->Register(
      prefix + "BatchDetectKeyPhrases", [text](const json& req) -> absl::StatusOr<json> {
        STRATUS_ASSIGN_OR_RETURN(auto request,
                                 TextListRequest<v1::BatchDetectKeyPhrasesRequest>(req));
        STRATUS_ASSIGN_OR_RETURN(auto r, text->BatchDetectKeyPhrases(request));
        json results = json::array();
        for (const auto& item : r.result_list()) {
          results.push_back(
              json{{"Index", item.index()}, {"KeyPhrases", KeyPhrasesToJson(item.key_phrases())}});
        }
        return json{{"ResultList", std::move(results)},
                    {"ErrorList", ErrorsToJson(r.error_list())}};
      });
}

}  // namespace

json ScoreToJson(const v1::SentimentScore& s) {
  return json{{"Positive", ShortestDouble(s.positive())},
              {"Negative", ShortestDouble(s.negative())},
              {"Neutral", ShortestDouble(s.neutral())},
              {"Mixed", ShortestDouble(s.mixed())}};
}

void RegisterComprehendOperations(aws::AwsJsonEndpoint* endpoint, const SentimentAnalyzer* analyzer,
                                  const TextAnalyzer* text) {
  if (text != nullptr) RegisterTextOperations(endpoint, text);
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
        return json{{"ResultList", std::move(results)},
                    {"ErrorList", ErrorsToJson(r.error_list())}};
      });
}

}  // namespace stratus::sentiment
