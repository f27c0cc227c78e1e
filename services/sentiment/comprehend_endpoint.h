// Amazon Comprehend's sentiment operations on the shared AWS JSON 1.1 endpoint
// (common/aws/json_protocol.h: SigV4, error shapes), so that @aws-sdk/client-comprehend and the
// AWS CLI work unchanged:
//   Comprehend_20171127.DetectSentiment       {Text, LanguageCode} -> {Sentiment, SentimentScore}
//   Comprehend_20171127.BatchDetectSentiment  {TextList, LanguageCode} -> {ResultList, ErrorList}
// and, when a TextAnalyzer is given, its operations (comprehend_text.h):
//   DetectDominantLanguage       {Text} -> {Languages: [{LanguageCode, Score}]}
//   BatchDetectDominantLanguage  {TextList} -> {ResultList: [{Index, Languages}], ErrorList}
//   DetectPiiEntities            {Text, LanguageCode} -> {Entities: [{Type, Score, BeginOffset,
//                                EndOffset}]}
//   ContainsPiiEntities          {Text, LanguageCode} -> {Labels: [{Name, Score}]}
//   DetectKeyPhrases             {Text, LanguageCode} -> {KeyPhrases: [{Text, Score,
//                                BeginOffset, EndOffset}]}
//   BatchDetectKeyPhrases        {TextList, LanguageCode} -> {ResultList: [{Index, KeyPhrases}],
//                                ErrorList}
// Each request body is parsed once into its proto (json_name: Comprehend's member names) and each
// response printed from its proto (common/aws/proto_json.h); a member of the wrong type is
// SerializationException. LanguageCode may be omitted (Stratus treats it as "en"); for
// sentiment a value other than "en" is UnsupportedLanguageException. Other errors as
// SentimentAnalyzer (sentiment.h) and TextAnalyzer, mapped with aws::ComprehendErrorDefaults(); the
// endpoint must be created with those.
#ifndef STRATUS_SERVICES_SENTIMENT_COMPREHEND_ENDPOINT_H_
#define STRATUS_SERVICES_SENTIMENT_COMPREHEND_ENDPOINT_H_

#include <nlohmann/json.hpp>

#include "common/aws/json_protocol.h"
#include "services/sentiment/comprehend_text.h"
#include "services/sentiment/sentiment.h"

namespace stratus::sentiment {

inline constexpr char kComprehendTargetPrefix[] = "Comprehend_20171127.";

// Registers the operations above (the text analyses only when `text` is not null; without them
// they stay UnknownOperationException). Neither is owned; both must outlive `endpoint`.
void RegisterComprehendOperations(aws::AwsJsonEndpoint* endpoint, const SentimentAnalyzer* analyzer,
                                  const TextAnalyzer* text = nullptr);

}  // namespace stratus::sentiment

#endif  // STRATUS_SERVICES_SENTIMENT_COMPREHEND_ENDPOINT_H_
