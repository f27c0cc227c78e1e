#include "services/sentiment/comprehend_endpoint.h"

#include <string>

#include "common/aws/aws_error.h"
#include "common/aws/proto_json.h"
#include "common/status.h"

namespace stratus::sentiment {
namespace {

// One parse in (the body into the request proto, whose json_name options are Comprehend's
// member names), the core, one conversion out (the response proto as AWS writes it). A member of
// the wrong type is SerializationException, as Comprehend answers it.
template <typename Service, typename Request, typename Response>
void Add(aws::AwsJsonEndpoint* endpoint, const Service* service, const std::string& operation,
         absl::StatusOr<Response> (Service::*method)(const Request&) const) {
  endpoint->RegisterBody(kComprehendTargetPrefix + operation,
                         [=](std::string_view body) -> absl::StatusOr<nlohmann::json> {
                           Request request;
                           if (absl::Status s = aws::ProtoFromAwsJson(body, &request); !s.ok()) {
                             return aws::AwsError(400, "SerializationException", s.message());
                           }
                           STRATUS_ASSIGN_OR_RETURN(Response response, (service->*method)(request));
                           return aws::ProtoToAwsJson(response);
                         });
}

}  // namespace

void RegisterComprehendOperations(aws::AwsJsonEndpoint* endpoint, const SentimentAnalyzer* analyzer,
                                  const TextAnalyzer* text) {
  Add(endpoint, analyzer, "DetectSentiment", &SentimentAnalyzer::DetectSentiment);
  Add(endpoint, analyzer, "BatchDetectSentiment", &SentimentAnalyzer::BatchDetectSentiment);
  if (text == nullptr) return;
  Add(endpoint, text, "DetectDominantLanguage", &TextAnalyzer::DetectDominantLanguage);
  Add(endpoint, text, "BatchDetectDominantLanguage", &TextAnalyzer::BatchDetectDominantLanguage);
  Add(endpoint, text, "DetectPiiEntities", &TextAnalyzer::DetectPiiEntities);
  Add(endpoint, text, "ContainsPiiEntities", &TextAnalyzer::ContainsPiiEntities);
  Add(endpoint, text, "DetectKeyPhrases", &TextAnalyzer::DetectKeyPhrases);
  Add(endpoint, text, "BatchDetectKeyPhrases", &TextAnalyzer::BatchDetectKeyPhrases);
}

}  // namespace stratus::sentiment
