#include "services/sentiment/sentiment.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/aws/aws_error.h"
#include "common/aws/json_protocol.h"

namespace stratus::sentiment {
namespace {

using google::protobuf::Timestamp;

constexpr int64_t kMaxTrendWindows = 10000;
constexpr int kMaxHashtags = 100;
constexpr int kMaxTrendTopics = 1000;
// google.protobuf.Timestamp's range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;

absl::Status InvalidRequest(absl::string_view message) {
  return aws::AwsError(400, "InvalidRequestException", message);
}

bool IsSet(const Timestamp& t) { return t.seconds() != 0 || t.nanos() != 0; }

bool InRange(const Timestamp& t) {
  return t.seconds() >= kMinTimestampSeconds && t.seconds() <= kMaxTimestampSeconds &&
         t.nanos() >= 0 && t.nanos() <= 999999999;
}

absl::Time ToTime(const Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

Timestamp FromUnixSeconds(int64_t s) {
  Timestamp t;
  t.set_seconds(s);
  return t;
}

void SetScore(const SentimentScores& s, v1::SentimentScore* out) {
  out->set_positive(s.positive);
  out->set_negative(s.negative);
  out->set_neutral(s.neutral);
  out->set_mixed(s.mixed);
}

// A short field of a post that is stored as text: bounded, UTF-8, no NUL (PostgreSQL's text
// cannot hold one).
absl::Status CheckStoredField(std::string_view value, const char* name) {
  if (value.size() > kMaxPostFieldBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " is ", value.size(), " bytes, more than ", kMaxPostFieldBytes));
  }
  if (!IsValidUtf8(value)) return absl::InvalidArgumentError(absl::StrCat(name, " is not UTF-8"));
  if (value.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(name, " contains a NUL character"));
  }
  return absl::OkStatus();
}

std::string Lower(std::string_view s) { return absl::AsciiStrToLower(std::string(s)); }

}  // namespace

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;  // continuation byte, overlong 2-byte lead (C0, C1), or over U+10FFFF
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;  // overlong, out of range, or a UTF-16 surrogate
    }
    p += n + 1;
  }
  return true;
}

absl::Status CheckText(std::string_view text, size_t max_bytes) {
  if (text.empty()) {
    return InvalidRequest("Text must not be empty: it must be 1 to 5000 bytes of UTF-8");
  }
  if (text.size() > max_bytes) {
    // Comprehend's own wording.
    return aws::AwsError(400, "TextSizeLimitExceededException",
                         absl::StrCat("Input text size exceeds limit. Max length of request text "
                                      "allowed is ",
                                      max_bytes, " bytes while in this request the text size is ",
                                      text.size(), " bytes"));
  }
  if (!IsValidUtf8(text)) return InvalidRequest("Text is not valid UTF-8");
  return absl::OkStatus();
}

absl::Status CheckLanguage(std::string_view language_code) {
  if (language_code.empty() || language_code == "en") return absl::OkStatus();
  return aws::AwsError(
      400, "UnsupportedLanguageException",
      absl::StrCat("Unsupported language code '",
                   IsValidUtf8(language_code) ? std::string(language_code) : "(not UTF-8)",
                   "': Stratus scores sentiment of English (\"en\") texts only"));
}

v1::Sentiment::Value ArgMax(const SentimentScores& s) {
  v1::Sentiment::Value best = v1::Sentiment::POSITIVE;
  float top = s.positive;
  if (s.negative > top) best = v1::Sentiment::NEGATIVE, top = s.negative;
  if (s.neutral > top) best = v1::Sentiment::NEUTRAL, top = s.neutral;
  if (s.mixed > top) best = v1::Sentiment::MIXED;
  return best;
}

const char* SentimentName(v1::Sentiment::Value value) {
  switch (value) {
    case v1::Sentiment::POSITIVE:
      return "POSITIVE";
    case v1::Sentiment::NEGATIVE:
      return "NEGATIVE";
    case v1::Sentiment::NEUTRAL:
      return "NEUTRAL";
    case v1::Sentiment::MIXED:
      return "MIXED";
    default:
      return "SENTIMENT_UNSPECIFIED";
  }
}

SentimentAnalyzer::SentimentAnalyzer(const Options& options) : options_(options) {}

absl::StatusOr<std::unique_ptr<SentimentAnalyzer>> SentimentAnalyzer::Create(
    const Options& options) {
  if (options.max_text_bytes == 0 || options.max_batch_texts <= 0) {
    return absl::InvalidArgumentError("max_text_bytes and max_batch_texts must be positive");
  }
  if (!options.clock) return absl::InvalidArgumentError("clock is unset");
  auto analyzer = std::unique_ptr<SentimentAnalyzer>(new SentimentAnalyzer(options));
  if (options.db != nullptr) analyzer->store_ = std::make_unique<PostStore>(options.db);
  if (options.metrics != nullptr) {
    analyzer->results_ = &metrics::BuildCounter()
                              .Name("stratus_sentiment_results_total")
                              .Help(
                                  "Texts and posts scored, by topic (\"\" for DetectSentiment "
                                  "and BatchDetectSentiment) and predicted sentiment.")
                              .Register(*options.metrics);
  }
  return analyzer;
}

void SentimentAnalyzer::SetClassifier(std::shared_ptr<const SentimentClassifier> classifier) {
  std::lock_guard<std::mutex> lock(mu_);
  classifier_ = std::move(classifier);
}

std::shared_ptr<const SentimentClassifier> SentimentAnalyzer::classifier() const {
  std::lock_guard<std::mutex> lock(mu_);
  return classifier_;
}

absl::Status SentimentAnalyzer::ModelReadiness() const {
  return classifier() ? absl::OkStatus() : absl::UnavailableError("sentiment model not loaded yet");
}

void SentimentAnalyzer::CountResult(const std::string& topic, v1::Sentiment::Value s) const {
  if (results_ == nullptr) return;
  std::string label = topic;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!topic_labels_.count(topic)) {
      if (static_cast<int>(topic_labels_.size()) < options_.max_topic_labels) {
        topic_labels_.insert(topic);
      } else {
        label = "(other)";
      }
    }
  }
  results_->Add({{"topic", label}, {"sentiment", Lower(SentimentName(s))}}).Increment();
}

absl::StatusOr<v1::DetectSentimentResponse> SentimentAnalyzer::DetectSentiment(
    const v1::DetectSentimentRequest& request) const {
  if (absl::Status s = CheckLanguage(request.language_code()); !s.ok()) return s;
  if (absl::Status s = CheckText(request.text(), options_.max_text_bytes); !s.ok()) return s;
  std::shared_ptr<const SentimentClassifier> model = classifier();
  if (!model) return ModelReadiness();
  const std::string_view text = request.text();
  absl::StatusOr<std::vector<SentimentScores>> scores = model->Classify({&text, 1});
  if (!scores.ok()) return scores.status();
  if (scores->size() != 1) return absl::InternalError("the model answered no score");
  v1::DetectSentimentResponse response;
  const v1::Sentiment::Value sentiment = ArgMax(scores->front());
  response.set_sentiment(sentiment);
  SetScore(scores->front(), response.mutable_sentiment_score());
  CountResult("", sentiment);
  return response;
}

absl::StatusOr<v1::BatchDetectSentimentResponse> SentimentAnalyzer::BatchDetectSentiment(
    const v1::BatchDetectSentimentRequest& request) const {
  if (absl::Status s = CheckLanguage(request.language_code()); !s.ok()) return s;
  const int n = request.text_list_size();
  if (n == 0) return InvalidRequest("TextList must hold 1 to 25 texts; it is empty");
  if (n > options_.max_batch_texts) {
    return aws::AwsError(
        400, "BatchSizeLimitExceededException",
        absl::StrCat("Batch size exceeds limit. Max batch size allowed is ",
                     options_.max_batch_texts, " while in this request the batch size is ", n));
  }
  std::shared_ptr<const SentimentClassifier> model = classifier();
  if (!model) return ModelReadiness();

  // Every index ends up in exactly one of the two lists, each in index order.
  std::vector<absl::Status> item_status(n);
  std::vector<std::string_view> texts;
  std::vector<int> index;
  for (int i = 0; i < n; ++i) {
    item_status[i] = CheckText(request.text_list(i), options_.max_text_bytes);
    if (item_status[i].ok()) {
      texts.push_back(request.text_list(i));
      index.push_back(i);
    }
  }
  std::vector<SentimentScores> scores;
  if (!texts.empty()) {
    absl::StatusOr<std::vector<SentimentScores>> r = model->Classify(texts);
    if (!r.ok() || r->size() != texts.size()) {
      const absl::Status failure =
          r.ok() ? absl::InternalError("the model answered a wrong number of scores") : r.status();
      for (int i : index) item_status[i] = failure;
    } else {
      scores = std::move(*r);
    }
  }
  v1::BatchDetectSentimentResponse response;
  size_t next = 0;
  for (int i = 0; i < n; ++i) {
    const absl::Status& s = item_status[i];
    if (s.ok()) {
      v1::BatchDetectSentimentItemResult* item = response.add_result_list();
      item->set_index(i);
      const v1::Sentiment::Value sentiment = ArgMax(scores[next]);
      item->set_sentiment(sentiment);
      SetScore(scores[next], item->mutable_sentiment_score());
      ++next;
      CountResult("", sentiment);
      continue;
    }
    v1::BatchItemError* error = response.add_error_list();
    error->set_index(i);
    if (aws::IsAwsError(s, "TextSizeLimitExceededException")) {
      error->set_error_code("TEXT_SIZE_LIMIT_EXCEEDED");
    } else if (s.code() == absl::StatusCode::kInvalidArgument) {
      error->set_error_code("INVALID_REQUEST");
    } else {
      error->set_error_code("INTERNAL_SERVER_ERROR");
    }
    error->set_error_message(std::string(s.message()));
  }
  return response;
}

absl::StatusOr<std::vector<v1::PostSentiment>> SentimentAnalyzer::ProcessPosts(
    std::vector<v1::Post> posts) const {
  if (!store_) return absl::FailedPreconditionError("no database configured for Feed");
  std::shared_ptr<const SentimentClassifier> model = classifier();
  if (!model) return ModelReadiness();
  const absl::Time now = options_.clock();

  const size_t n = posts.size();
  std::vector<v1::PostSentiment> out(n);
  std::vector<StoredPost> rows;
  std::vector<size_t> row_of;  // index into `posts` of each row
  for (size_t i = 0; i < n; ++i) {
    v1::Post& post = posts[i];
    v1::PostSentiment& result = out[i];
    if (post.id().empty()) post.set_id(aws::NewUuidV4());
    result.set_id(post.id());
    absl::Status s = CheckStoredField(post.id(), "id");
    if (s.ok()) s = CheckStoredField(post.author(), "author");
    if (s.ok()) s = CheckText(post.text(), options_.max_text_bytes);
    if (s.ok() && post.text().find('\0') != std::string::npos) {
      s = absl::InvalidArgumentError("text contains a NUL character");
    }
    if (s.ok() && post.hashtags_size() > kMaxHashtags) {
      s = absl::InvalidArgumentError(absl::StrCat("more than ", kMaxHashtags, " hashtags"));
    }
    StoredPost row;
    for (int h = 0; s.ok() && h < post.hashtags_size(); ++h) {
      s = CheckStoredField(post.hashtags(h), "hashtag");
      std::string_view tag = post.hashtags(h);
      if (!tag.empty() && tag.front() == '#') tag.remove_prefix(1);
      row.hashtags.emplace_back(tag);
    }
    if (s.ok()) {
      row.topic = post.topic();
      if (row.topic.empty() && !row.hashtags.empty()) row.topic = Lower(row.hashtags.front());
      s = CheckStoredField(row.topic, "topic");
    }
    if (s.ok() && IsSet(post.time()) && !InRange(post.time())) {
      s = absl::InvalidArgumentError("time is outside 0001-01-01 .. 9999-12-31");
    }
    if (!s.ok()) {
      result.set_error(std::string(s.message()));
      continue;
    }
    row.id = post.id();
    row.author = post.author();
    row.text = std::move(*post.mutable_text());
    row.posted_at = IsSet(post.time()) ? ToTime(post.time()) : now;
    rows.push_back(std::move(row));
    row_of.push_back(i);
  }
  if (rows.empty()) return out;

  std::vector<std::string_view> texts;
  texts.reserve(rows.size());
  for (const StoredPost& r : rows) texts.push_back(r.text);
  absl::StatusOr<std::vector<SentimentScores>> scores = model->Classify(texts);
  if (!scores.ok() || scores->size() != rows.size()) {
    const std::string message =
        absl::StrCat("not scored: ", scores.ok() ? "the model answered a wrong number of scores"
                                                 : scores.status().message());
    for (size_t i : row_of) out[i].set_error(message);
    return out;
  }
  std::vector<v1::Sentiment::Value> sentiment(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    rows[r].scores = (*scores)[r];
    sentiment[r] = ArgMax(rows[r].scores);
    rows[r].sentiment = SentimentName(sentiment[r]);
  }

  // One transaction for the batch; when it fails for a reason other than the database being
  // unreachable, store one by one so a post PostgreSQL refuses does not take its neighbours down.
  std::vector<absl::Status> stored(rows.size(), store_->Upsert(rows));
  if (!stored[0].ok() && rows.size() > 1 && !absl::IsUnavailable(stored[0])) {
    for (size_t r = 0; r < rows.size(); ++r) stored[r] = store_->Upsert({rows[r]});
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    v1::PostSentiment& result = out[row_of[r]];
    if (!stored[r].ok()) {
      result.set_error(absl::StrCat("not stored: ", stored[r].message()));
      continue;
    }
    result.set_sentiment(sentiment[r]);
    SetScore(rows[r].scores, result.mutable_score());
    CountResult(rows[r].topic, sentiment[r]);
  }
  return out;
}

absl::StatusOr<v1::GetTrendsResponse> SentimentAnalyzer::GetTrends(
    const v1::GetTrendsRequest& request) const {
  if (!store_) return absl::FailedPreconditionError("no database configured for GetTrends");
  TrendQuery query;
  query.window_seconds = request.window_seconds() == 0 ? 3600 : request.window_seconds();
  if (query.window_seconds < 60) {
    return InvalidRequest(absl::StrCat("window_seconds must be at least 60 (or 0 for 3600), not ",
                                       request.window_seconds()));
  }
  if ((IsSet(request.start()) && !InRange(request.start())) ||
      (IsSet(request.end()) && !InRange(request.end()))) {
    return InvalidRequest("start or end is outside 0001-01-01 .. 9999-12-31");
  }
  query.end = IsSet(request.end()) ? ToTime(request.end()) : options_.clock();
  query.start = IsSet(request.start()) ? ToTime(request.start()) : query.end - absl::Hours(24);
  if (query.end <= query.start) return InvalidRequest("end must be after start");
  // Windows touched by [start, end): from the one holding start to the one holding end - 1ns.
  const int64_t w = query.window_seconds;
  auto window_of = [w](absl::Time t) {
    const int64_t s = absl::ToUnixSeconds(t);  // floor
    return (s >= 0 ? s / w : -((-s + w - 1) / w));
  };
  const int64_t windows = window_of(query.end - absl::Nanoseconds(1)) - window_of(query.start) + 1;
  if (windows > kMaxTrendWindows) {
    return InvalidRequest(absl::StrCat("[start, end) spans ", windows, " windows of ", w,
                                       " s; at most ", kMaxTrendWindows, " are allowed"));
  }
  if (request.topics_size() > kMaxTrendTopics) {
    return InvalidRequest(absl::StrCat("at most ", kMaxTrendTopics, " topics per request"));
  }
  for (const std::string& topic : request.topics()) {
    if (absl::Status s = CheckStoredField(topic, "topic"); !s.ok())
      return InvalidRequest(s.message());
    query.topics.push_back(topic);
  }
  absl::StatusOr<std::vector<TrendRow>> rows = store_->Trends(query);
  if (!rows.ok()) return rows.status();
  v1::GetTrendsResponse response;
  for (const TrendRow& row : *rows) {
    v1::TrendBucket* b = response.add_buckets();
    b->set_topic(row.topic);
    *b->mutable_window_start() = FromUnixSeconds(row.window_start_unix);
    b->set_count(row.count);
    b->set_positive_count(row.positive);
    b->set_negative_count(row.negative);
    b->set_neutral_count(row.neutral);
    b->set_mixed_count(row.mixed);
    SetScore(row.mean, b->mutable_mean_score());
  }
  return response;
}

}  // namespace stratus::sentiment
