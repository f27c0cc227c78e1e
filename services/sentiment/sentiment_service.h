// gRPC adapter of the sentiment service (stratus.v1.SentimentService): thin handlers over
// SentimentAnalyzer (sentiment, Feed, trends) and TextAnalyzer (dominant language, PII, key
// phrases). Errors carry the Comprehend exception as an ErrorInfo reason
// (proto/stratus/v1/common.proto), e.g. "TextSizeLimitExceededException".
//
// Feed reads posts on a thread of its own while the handler scores and stores: posts that
// arrive while one batch is scored form the next batch (up to `feed_batch`), so a fast sender
// gets batched inference and one transaction per batch, a slow one gets each post answered
// at once. Answers keep the order of the posts.
#ifndef STRATUS_SERVICES_SENTIMENT_SENTIMENT_SERVICE_H_
#define STRATUS_SERVICES_SENTIMENT_SENTIMENT_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/status/status.h"
#include "services/sentiment/comprehend_text.h"
#include "services/sentiment/sentiment.h"
#include "stratus/v1/sentiment.grpc.pb.h"

namespace stratus::sentiment {

// The gRPC status for `status`, with the AWS exception (AwsError payload, or Comprehend's
// default for the code) attached as ErrorInfo.reason.
grpc::Status ToGrpcWithReason(const absl::Status& status);

class SentimentServiceImpl final : public v1::SentimentService::Service {
 public:
  // `analyzer` and `text` are not owned and must outlive the service. `feed_batch`: posts
  // scored together at most in Feed. Without `text` the language, PII and key-phrase calls
  // answer UNIMPLEMENTED.
  explicit SentimentServiceImpl(const SentimentAnalyzer* analyzer, int feed_batch = 32,
                                const TextAnalyzer* text = nullptr)
      : analyzer_(analyzer), text_(text), feed_batch_(feed_batch < 1 ? 1 : feed_batch) {}

  grpc::Status DetectSentiment(grpc::ServerContext* context,
                               const v1::DetectSentimentRequest* request,
                               v1::DetectSentimentResponse* response) override;
  grpc::Status BatchDetectSentiment(grpc::ServerContext* context,
                                    const v1::BatchDetectSentimentRequest* request,
                                    v1::BatchDetectSentimentResponse* response) override;
  grpc::Status Feed(grpc::ServerContext* context,
                    grpc::ServerReaderWriter<v1::PostSentiment, v1::Post>* stream) override;
  grpc::Status GetTrends(grpc::ServerContext* context, const v1::GetTrendsRequest* request,
                         v1::GetTrendsResponse* response) override;
  grpc::Status DetectDominantLanguage(grpc::ServerContext* context,
                                      const v1::DetectDominantLanguageRequest* request,
                                      v1::DetectDominantLanguageResponse* response) override;
  grpc::Status BatchDetectDominantLanguage(
      grpc::ServerContext* context, const v1::BatchDetectDominantLanguageRequest* request,
      v1::BatchDetectDominantLanguageResponse* response) override;
  grpc::Status DetectPiiEntities(grpc::ServerContext* context,
                                 const v1::DetectPiiEntitiesRequest* request,
                                 v1::DetectPiiEntitiesResponse* response) override;
  grpc::Status ContainsPiiEntities(grpc::ServerContext* context,
                                   const v1::ContainsPiiEntitiesRequest* request,
                                   v1::ContainsPiiEntitiesResponse* response) override;
  grpc::Status DetectKeyPhrases(grpc::ServerContext* context,
                                const v1::DetectKeyPhrasesRequest* request,
                                v1::DetectKeyPhrasesResponse* response) override;
  grpc::Status BatchDetectKeyPhrases(grpc::ServerContext* context,
                                     const v1::BatchDetectKeyPhrasesRequest* request,
                                     v1::BatchDetectKeyPhrasesResponse* response) override;

 private:
  const SentimentAnalyzer* analyzer_;
  const TextAnalyzer* text_;
  int feed_batch_;
};

}  // namespace stratus::sentiment

#endif  // STRATUS_SERVICES_SENTIMENT_SENTIMENT_SERVICE_H_
