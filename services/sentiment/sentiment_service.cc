#include "services/sentiment/sentiment_service.h"

#include <string>

namespace stratus::sentiment {
namespace {

grpc::Status Unimplemented(const std::string& rpc) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      rpc + " is not implemented yet: it arrives with issue 6 (sentiment)");
}

}  // namespace

grpc::Status SentimentServiceImpl::DetectSentiment(grpc::ServerContext* context, const v1::DetectSentimentRequest* request,
                      v1::DetectSentimentResponse* response) {
  return Unimplemented("DetectSentiment");
}

grpc::Status SentimentServiceImpl::BatchDetectSentiment(grpc::ServerContext* context, const v1::BatchDetectSentimentRequest* request,
                      v1::BatchDetectSentimentResponse* response) {
  return Unimplemented("BatchDetectSentiment");
}

grpc::Status SentimentServiceImpl::Feed(grpc::ServerContext* context,
                      grpc::ServerReaderWriter<v1::PostSentiment, v1::Post>* stream) {
  return Unimplemented("Feed");
}

grpc::Status SentimentServiceImpl::GetTrends(grpc::ServerContext* context, const v1::GetTrendsRequest* request,
                      v1::GetTrendsResponse* response) {
  return Unimplemented("GetTrends");
}

}  // namespace stratus::sentiment
