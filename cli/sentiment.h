// `stratus sentiment` and `stratus feed`: the sentiment service from the command line, over
// gRPC (--endpoint, default $STRATUS_SENTIMENT_ADDR or localhost:50055).
//
//   stratus sentiment TEXT...            one JSON object per text, in order, in Comprehend's
//   stratus sentiment --file FILE|-      shape: {"Sentiment": "POSITIVE", "SentimentScore":
//                                        {"Positive": .., "Negative": .., "Neutral": ..,
//                                        "Mixed": ..}}; a text that fails prints
//                                        {"ErrorCode": .., "ErrorMessage": ..} on its line.
//     FILE holds one text per line (empty lines skipped), or JSON Lines with a "text" member
//     (decided by the first non-empty line). Texts go 25 to a BatchDetectSentiment call.
//   stratus feed FILE.jsonl|-            streams posts ({"id", "author", "time" (RFC 3339 or
//                                        epoch seconds), "text", "topic", "hashtags"}) through
//                                        Feed; prints one {"id", "Sentiment", "SentimentScore"}
//                                        or {"id", "Error"} per post, in order.
// Exit status: 0 when every text/post was scored, 1 when some failed, 2 for usage errors or
// when the service cannot be reached.
#ifndef STRATUS_CLI_SENTIMENT_H_
#define STRATUS_CLI_SENTIMENT_H_

namespace stratus::cli {

// argv starts at the command name ("sentiment", "feed").
int RunSentimentCommand(int argc, char** argv);
int RunFeedCommand(int argc, char** argv);
// `stratus trends [--topic T]... [--start RFC3339] [--end RFC3339] [--window SECONDS]`: one JSON
// object per (topic, window): {"topic", "window_start", "count", "positive", "negative",
// "neutral", "mixed", "mean_score": {...}}.
int RunTrendsCommand(int argc, char** argv);

}  // namespace stratus::cli

#endif  // STRATUS_CLI_SENTIMENT_H_
