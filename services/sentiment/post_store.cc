#include "services/sentiment/post_store.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace stratus::sentiment {
namespace {

// Timestamps travel as microseconds since the epoch (exact for any time this service sees).
constexpr char kFromMicros[] = "('epoch'::timestamptz + $%d::bigint * interval '1 microsecond')";

std::string FromMicros(int param) {
  char buf[96];
  std::snprintf(buf, sizeof(buf), kFromMicros, param);
  return buf;
}

}  // namespace

absl::Status PostStore::Upsert(const std::vector<StoredPost>& posts) {
  if (posts.empty()) return absl::OkStatus();
  static const std::string kUpsert = absl::StrCat(
      "INSERT INTO sentiment_posts (post_id, author, topic, hashtags, text, posted_at, sentiment, "
      "positive, negative, neutral, mixed) VALUES ($1, $2, $3, $4::jsonb, $5, ",
      FromMicros(6),
      ", $7, $8, $9, $10, $11) ON CONFLICT (post_id) DO UPDATE SET author = EXCLUDED.author, "
      "topic = EXCLUDED.topic, hashtags = EXCLUDED.hashtags, text = EXCLUDED.text, "
      "posted_at = EXCLUDED.posted_at, received_at = now(), sentiment = EXCLUDED.sentiment, "
      "positive = EXCLUDED.positive, negative = EXCLUDED.negative, neutral = EXCLUDED.neutral, "
      "mixed = EXCLUDED.mixed");
  return db_->Transact([&](pqxx::work& tx) -> absl::Status {
    for (const StoredPost& p : posts) {
      const std::string hashtags = nlohmann::json(p.hashtags).dump();
      tx.exec_params(kUpsert, p.id, p.author, p.topic, hashtags, p.text,
                     absl::ToUnixMicros(p.posted_at), p.sentiment, p.scores.positive,
                     p.scores.negative, p.scores.neutral, p.scores.mixed);
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<TrendRow>> PostStore::Trends(const TrendQuery& query) {
  // Windows are floor(epoch / window) * window: aligned to the Unix epoch whatever `start` is.
  static const std::string kTrends = absl::StrCat(
      "SELECT topic, (floor(extract(epoch FROM posted_at) / $3::bigint))::bigint * $3::bigint, "
      "count(*), count(*) FILTER (WHERE sentiment = 'POSITIVE'), "
      "count(*) FILTER (WHERE sentiment = 'NEGATIVE'), "
      "count(*) FILTER (WHERE sentiment = 'NEUTRAL'), "
      "count(*) FILTER (WHERE sentiment = 'MIXED'), "
      "avg(positive), avg(negative), avg(neutral), avg(mixed) "
      "FROM sentiment_posts WHERE posted_at >= ",
      FromMicros(1), " AND posted_at < ", FromMicros(2),
      " AND ($4::jsonb = '[]'::jsonb OR topic IN (SELECT jsonb_array_elements_text($4::jsonb))) "
      "GROUP BY 1, 2 ORDER BY topic COLLATE \"C\", 2");
  const std::string topics = nlohmann::json(query.topics).dump();
  return db_->Query<std::vector<TrendRow>>([&](pqxx::work& tx)
                                               -> absl::StatusOr<std::vector<TrendRow>> {
    pqxx::result r = tx.exec_params(kTrends, absl::ToUnixMicros(query.start),
                                    absl::ToUnixMicros(query.end), query.window_seconds, topics);
    std::vector<TrendRow> rows;
    rows.reserve(r.size());
    for (const auto& row : r) {
      TrendRow t;
      t.topic = row[0].as<std::string>();
      t.window_start_unix = row[1].as<int64_t>();
      t.count = row[2].as<int64_t>();
      t.positive = row[3].as<int64_t>();
      t.negative = row[4].as<int64_t>();
      t.neutral = row[5].as<int64_t>();
      t.mixed = row[6].as<int64_t>();
      t.mean = {row[7].as<float>(), row[8].as<float>(), row[9].as<float>(), row[10].as<float>()};
      rows.push_back(std::move(t));
    }
    return rows;
  });
}

}  // namespace stratus::sentiment
