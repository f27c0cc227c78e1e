// The sentiment service's core, without gRPC or HTTP: Amazon Comprehend's DetectSentiment and
// BatchDetectSentiment semantics (limits, error types, per-item errors), scoring and storing
// feed posts, and topic trends. The gRPC adapter (sentiment_service.h) and the AWS JSON endpoint
// (comprehend_endpoint.h) are thin layers over this class.
//
// Errors: statuses carry the Comprehend exception (common/aws/aws_error.h) where it is not the
// default for the code: INVALID_ARGUMENT InvalidRequestException (empty text, invalid UTF-8,
// empty batch, bad GetTrends arguments), TextSizeLimitExceededException (over
// Options::max_text_bytes), UnsupportedLanguageException (language other than "en"),
// BatchSizeLimitExceededException (over Options::max_batch_texts); UNAVAILABLE while no model is
// loaded or when the database is down; FAILED_PRECONDITION for Feed/GetTrends without a
// database.
//
// Thread safety: every method may be called concurrently once Create() returned.
#ifndef STRATUS_SERVICES_SENTIMENT_SENTIMENT_H_
#define STRATUS_SERVICES_SENTIMENT_SENTIMENT_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/db.h"
#include "common/metrics.h"
#include "services/sentiment/classifier.h"
#include "services/sentiment/post_store.h"
#include "stratus/v1/sentiment.pb.h"

namespace stratus::sentiment {

namespace v1 = ::stratus::v1;

// Comprehend's limits for DetectSentiment / BatchDetectSentiment.
inline constexpr size_t kMaxTextBytes = 5000;
inline constexpr int kMaxBatchTexts = 25;
// Post.id at most (sentiment.proto); author and topic get the same bound.
inline constexpr size_t kMaxPostFieldBytes = 256;

// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points over
// U+10FFFF), as PostgreSQL and the AWS SDKs require.
bool IsValidUtf8(std::string_view s);

// Comprehend's checks of one text: OK, TextSizeLimitExceededException when longer than
// `max_bytes`, InvalidRequestException when empty or not UTF-8.
absl::Status CheckText(std::string_view text, size_t max_bytes = kMaxTextBytes);

// "" and "en" are accepted; anything else is UnsupportedLanguageException.
absl::Status CheckLanguage(std::string_view language_code);

// Upper-case class name ("POSITIVE") and its enum value; the arg max of `scores` (ties go to
// the first of POSITIVE, NEGATIVE, NEUTRAL, MIXED).
v1::Sentiment::Value ArgMax(const SentimentScores& scores);
const char* SentimentName(v1::Sentiment::Value value);

class SentimentAnalyzer {
 public:
  struct Options {
    // Where Feed stores posts and GetTrends reads them. Not owned; null: Feed and GetTrends
    // answer FAILED_PRECONDITION (DetectSentiment needs no database).
    Database* db = nullptr;
    // Counts results as stratus_sentiment_results_total{topic,sentiment}. Not owned; may be null.
    metrics::Registry* metrics = nullptr;
    // "Now": the time of posts sent without one, and GetTrends' default end.
    std::function<absl::Time()> clock = [] { return absl::Now(); };
    size_t max_text_bytes = kMaxTextBytes;
    int max_batch_texts = kMaxBatchTexts;
    // Distinct topic label values in the results metric; posts of further topics are counted
    // under topic="(other)" so that a flood of hashtags cannot blow up Prometheus. DetectSentiment
    // and BatchDetectSentiment results have topic="".
    int max_topic_labels = 100;
  };

  static absl::StatusOr<std::unique_ptr<SentimentAnalyzer>> Create(const Options& options);

  // Publishes the model; until then scoring answers UNAVAILABLE ("model not loaded"). Called
  // once (a second call replaces the model; the first stays alive for calls still using it).
  void SetClassifier(std::shared_ptr<const SentimentClassifier> classifier);
  // OK once a classifier is set: the readiness check "model".
  absl::Status ModelReadiness() const;

  absl::StatusOr<v1::DetectSentimentResponse> DetectSentiment(
      const v1::DetectSentimentRequest& request) const;
  // Request-level errors: language, empty batch, too many texts. A bad text goes to error_list
  // (TEXT_SIZE_LIMIT_EXCEEDED, INVALID_REQUEST); a model failure puts every text there
  // (INTERNAL_SERVER_ERROR).
  absl::StatusOr<v1::BatchDetectSentimentResponse> BatchDetectSentiment(
      const v1::BatchDetectSentimentRequest& request) const;

  // Scores `posts` and stores them (one transaction; re-sent ids replace the stored post). One
  // PostSentiment per post, in order; a post that cannot be scored or stored gets `error`
  // (its sentiment unset) and is not counted. UNAVAILABLE only when no model is loaded,
  // FAILED_PRECONDITION without a database.
  absl::StatusOr<std::vector<v1::PostSentiment>> ProcessPosts(std::vector<v1::Post> posts) const;

  // INVALID_ARGUMENT for window_seconds in 1..59 or negative, end <= start, more than
  // Options' 10,000 windows, a timestamp out of range; UNAVAILABLE when the database is down.
  absl::StatusOr<v1::GetTrendsResponse> GetTrends(const v1::GetTrendsRequest& request) const;

 private:
  explicit SentimentAnalyzer(const Options& options);
  std::shared_ptr<const SentimentClassifier> classifier() const;
  void CountResult(const std::string& topic, v1::Sentiment::Value sentiment) const;

  Options options_;
  std::unique_ptr<PostStore> store_;
  mutable std::mutex mu_;
  std::shared_ptr<const SentimentClassifier> classifier_;
  metrics::Family<metrics::Counter>* results_ = nullptr;
  mutable std::set<std::string> topic_labels_;  // guarded by mu_
};

}  // namespace stratus::sentiment

#endif  // STRATUS_SERVICES_SENTIMENT_SENTIMENT_H_
