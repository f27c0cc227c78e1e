// A deterministic stand-in for the sentiment model in tests of the service logic (limits,
// errors, Feed, trends): a text with a word of `positive_words` and none of `negative_words`
// is POSITIVE (0.85), the reverse NEGATIVE (0.85), both MIXED (0.7), neither NEUTRAL (0.9); the
// other classes share the rest equally. Words are compared lower-cased, split on non-letters.
// `fail` makes every call fail with INTERNAL (to test model failures).
#ifndef STRATUS_SERVICES_SENTIMENT_TESTING_KEYWORD_CLASSIFIER_H_
#define STRATUS_SERVICES_SENTIMENT_TESTING_KEYWORD_CLASSIFIER_H_

#include <atomic>
#include <set>
#include <string>

#include "services/sentiment/classifier.h"

namespace stratus::sentiment::testing {

class KeywordClassifier final : public SentimentClassifier {
 public:
  KeywordClassifier();
  absl::StatusOr<std::vector<SentimentScores>> Classify(
      absl::Span<const std::string_view> texts) const override;
  std::string Describe() const override { return "keyword classifier (test)"; }

  void set_fail(bool fail) { fail_ = fail; }
  // Texts classified so far, and calls (batches) made.
  int texts_seen() const { return texts_; }
  int calls() const { return calls_; }

 private:
  std::set<std::string> positive_words_;
  std::set<std::string> negative_words_;
  std::atomic<bool> fail_{false};
  mutable std::atomic<int> texts_{0};
  mutable std::atomic<int> calls_{0};
};

}  // namespace stratus::sentiment::testing

#endif  // STRATUS_SERVICES_SENTIMENT_TESTING_KEYWORD_CLASSIFIER_H_
