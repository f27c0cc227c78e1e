// Scored posts in PostgreSQL (table sentiment_posts, schema.cc) and the trend query over them.
//
// Thread safety: thread-safe (the Database pool is).
#ifndef STRATUS_SERVICES_SENTIMENT_POST_STORE_H_
#define STRATUS_SERVICES_SENTIMENT_POST_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db.h"
#include "services/sentiment/classifier.h"

namespace stratus::sentiment {

struct StoredPost {
  std::string id;
  std::string author;
  std::string topic;
  std::vector<std::string> hashtags;
  std::string text;
  absl::Time posted_at;
  std::string sentiment;  // "POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"
  SentimentScores scores;
};

struct TrendQuery {
  std::vector<std::string> topics;  // empty: all
  absl::Time start;                 // inclusive
  absl::Time end;                   // exclusive
  int64_t window_seconds = 3600;    // > 0; windows aligned to multiples since the Unix epoch
};

struct TrendRow {
  std::string topic;
  int64_t window_start_unix = 0;  // seconds
  int64_t count = 0;
  int64_t positive = 0, negative = 0, neutral = 0, mixed = 0;
  SentimentScores mean;
};

class PostStore {
 public:
  // `db` is not owned and must outlive the store.
  explicit PostStore(Database* db) : db_(db) {}

  // Inserts the posts, or replaces the stored post of the same id (so re-sent posts are not
  // counted twice), all in one transaction. Errors as Database::Transact (UNAVAILABLE when the
  // database is down, INVALID_ARGUMENT for data PostgreSQL refuses).
  absl::Status Upsert(const std::vector<StoredPost>& posts);

  // Counts and mean scores per (topic, window) of the posts in [start, end), sorted by topic
  // then window; windows without posts are absent.
  absl::StatusOr<std::vector<TrendRow>> Trends(const TrendQuery& query);

 private:
  Database* db_;
};

}  // namespace stratus::sentiment

#endif  // STRATUS_SERVICES_SENTIMENT_POST_STORE_H_
