// gRPC adapter of the sentiment service: Sentiment of social-media messages, feeds and trends.
// Until issue 6 (sentiment) lands, every RPC answers UNIMPLEMENTED naming what is missing.
#ifndef STRATUS_SERVICES_SENTIMENT_SENTIMENT_SERVICE_H_
#define STRATUS_SERVICES_SENTIMENT_SENTIMENT_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "stratus/v1/sentiment.grpc.pb.h"

namespace stratus::sentiment {

namespace v1 = ::stratus::v1;

class SentimentServiceImpl final : public v1::SentimentService::Service {
 public:
  grpc::Status DetectSentiment(grpc::ServerContext* context, const v1::DetectSentimentRequest* request,
                      v1::DetectSentimentResponse* response) override;
  grpc::Status BatchDetectSentiment(grpc::ServerContext* context, const v1::BatchDetectSentimentRequest* request,
                      v1::BatchDetectSentimentResponse* response) override;
  grpc::Status Feed(grpc::ServerContext* context,
                      grpc::ServerReaderWriter<v1::PostSentiment, v1::Post>* stream) override;
  grpc::Status GetTrends(grpc::ServerContext* context, const v1::GetTrendsRequest* request,
                      v1::GetTrendsResponse* response) override;
};

}  // namespace stratus::sentiment

#endif  // STRATUS_SERVICES_SENTIMENT_SENTIMENT_SERVICE_H_
