#include "services/sentiment/schema.h"

namespace stratus::sentiment {

const std::vector<Migration>& Migrations() {
  static const auto* kMigrations = new std::vector<Migration>{
      {1, "post sentiments",
       R"sql(
CREATE TABLE sentiment_posts (
  post_id    text PRIMARY KEY,
  author     text,
  topic      text NOT NULL,
  posted_at  timestamptz NOT NULL,
  sentiment  text NOT NULL,
  positive real NOT NULL, negative real NOT NULL, neutral real NOT NULL, mixed real NOT NULL
);
CREATE INDEX sentiment_posts_topic_at ON sentiment_posts (topic, posted_at);
)sql"},
  };
  return *kMigrations;
}

}  // namespace stratus::sentiment
