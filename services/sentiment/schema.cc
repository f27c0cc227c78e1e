#include "services/sentiment/schema.h"

namespace stratus::sentiment {

const std::vector<Migration>& Migrations() {
  static const auto* kMigrations = new std::vector<Migration>{
      {1, "scored posts",
       R"sql(
CREATE TABLE sentiment_posts (
  post_id     text PRIMARY KEY,
  author      text NOT NULL DEFAULT '',
  topic       text NOT NULL,
  hashtags    jsonb NOT NULL DEFAULT '[]',  -- array of strings
  text        text NOT NULL,
  posted_at   timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  sentiment   text NOT NULL
              CHECK (sentiment IN ('POSITIVE', 'NEGATIVE', 'NEUTRAL', 'MIXED')),
  positive    real NOT NULL,
  negative    real NOT NULL,
  neutral     real NOT NULL,
  mixed       real NOT NULL
);
-- GetTrends for some topics (the common case) and for all topics over a period.
CREATE INDEX sentiment_posts_topic_at ON sentiment_posts (topic, posted_at);
CREATE INDEX sentiment_posts_at ON sentiment_posts (posted_at);
)sql"},
  };
  return *kMigrations;
}

}  // namespace stratus::sentiment
