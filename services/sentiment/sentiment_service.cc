#include "services/sentiment/sentiment_service.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "common/aws/aws_error.h"
#include "common/status.h"
#include "stratus/v1/common.pb.h"

namespace stratus::sentiment {

grpc::Status ToGrpcWithReason(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return ToGrpcStatus(
      WithReason(status, aws::ToAwsError(status, aws::ComprehendErrorDefaults()).type));
}


grpc::Status SentimentServiceImpl::DetectSentiment(grpc::ServerContext*,
                                                   const v1::DetectSentimentRequest* request,
                                                   v1::DetectSentimentResponse* response) {
  auto result = analyzer_->DetectSentiment(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status SentimentServiceImpl::BatchDetectSentiment(
    grpc::ServerContext*, const v1::BatchDetectSentimentRequest* request,
    v1::BatchDetectSentimentResponse* response) {
  auto result = analyzer_->BatchDetectSentiment(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status SentimentServiceImpl::GetTrends(grpc::ServerContext*,
                                             const v1::GetTrendsRequest* request,
                                             v1::GetTrendsResponse* response) {
  auto result = analyzer_->GetTrends(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

namespace {

// Runs `call` on the text analyser: UNIMPLEMENTED without one.
template <typename Response, typename Call>
grpc::Status OnText(const TextAnalyzer* text, Response* response, Call call) {
  if (text == nullptr) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "text analyses are not configured");
  }
  absl::StatusOr<Response> result = call(*text);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status SentimentServiceImpl::DetectDominantLanguage(
    grpc::ServerContext*, const v1::DetectDominantLanguageRequest* request,
    v1::DetectDominantLanguageResponse* response) {
  return OnText(text_, response,
                [&](const TextAnalyzer& t) { return t.DetectDominantLanguage(*request); });
}

grpc::Status SentimentServiceImpl::BatchDetectDominantLanguage(
    grpc::ServerContext*, const v1::BatchDetectDominantLanguageRequest* request,
    v1::BatchDetectDominantLanguageResponse* response) {
  return OnText(text_, response,
                [&](const TextAnalyzer& t) { return t.BatchDetectDominantLanguage(*request); });
}

grpc::Status SentimentServiceImpl::DetectPiiEntities(grpc::ServerContext*,
                                                     const v1::DetectPiiEntitiesRequest* request,
                                                     v1::DetectPiiEntitiesResponse* response) {
  return OnText(text_, response,
                [&](const TextAnalyzer& t) { return t.DetectPiiEntities(*request); });
}

grpc::Status SentimentServiceImpl::ContainsPiiEntities(
    grpc::ServerContext*, const v1::ContainsPiiEntitiesRequest* request,
    v1::ContainsPiiEntitiesResponse* response) {
  return OnText(text_, response,
                [&](const TextAnalyzer& t) { return t.ContainsPiiEntities(*request); });
}

grpc::Status SentimentServiceImpl::DetectKeyPhrases(grpc::ServerContext*,
                                                    const v1::DetectKeyPhrasesRequest* request,
                                                    v1::DetectKeyPhrasesResponse* response) {
  return OnText(text_, response,
                [&](const TextAnalyzer& t) { return t.DetectKeyPhrases(*request); });
}

grpc::Status SentimentServiceImpl::BatchDetectKeyPhrases(
    grpc::ServerContext*, const v1::BatchDetectKeyPhrasesRequest* request,
    v1::BatchDetectKeyPhrasesResponse* response) {
  return OnText(text_, response,
                [&](const TextAnalyzer& t) { return t.BatchDetectKeyPhrases(*request); });
}

grpc::Status SentimentServiceImpl::Feed(
    grpc::ServerContext* context, grpc::ServerReaderWriter<v1::PostSentiment, v1::Post>* stream) {
  if (absl::Status s = analyzer_->ModelReadiness(); !s.ok()) return ToGrpcWithReason(s);
  std::mutex mu;
  std::condition_variable cv;
  std::deque<v1::Post> queue;
  bool reading = true;
  bool stop = false;
  const size_t max_queue = static_cast<size_t>(feed_batch_) * 4;  // back-pressure on the sender
  std::thread reader([&] {
    v1::Post post;
    while (stream->Read(&post)) {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return queue.size() < max_queue || stop; });
      if (stop) break;
      queue.push_back(std::move(post));
      cv.notify_all();
    }
    std::lock_guard<std::mutex> lock(mu);
    reading = false;
    cv.notify_all();
  });

  grpc::Status result = grpc::Status::OK;
  while (true) {
    std::vector<v1::Post> batch;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return !queue.empty() || !reading; });
      if (queue.empty()) break;  // the client finished sending and everything is answered
      while (!queue.empty() && batch.size() < static_cast<size_t>(feed_batch_)) {
        batch.push_back(std::move(queue.front()));
        queue.pop_front();
      }
      cv.notify_all();
    }
    absl::StatusOr<std::vector<v1::PostSentiment>> answers =
        analyzer_->ProcessPosts(std::move(batch));
    if (!answers.ok()) {
      result = ToGrpcWithReason(answers.status());
      break;
    }
    bool written = true;
    for (const v1::PostSentiment& a : *answers) {
      if (!(written = stream->Write(a))) break;
    }
    if (!written) {
      result = grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
      break;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
    cv.notify_all();
  }
  // Unblocks a Read() still waiting for the client when we stop early.
  if (!result.ok()) context->TryCancel();
  reader.join();
  return result;
}

}  // namespace stratus::sentiment
