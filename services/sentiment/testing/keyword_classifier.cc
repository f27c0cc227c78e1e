#include "services/sentiment/testing/keyword_classifier.h"

#include <cctype>

#include "absl/status/status.h"

namespace stratus::sentiment::testing {

KeywordClassifier::KeywordClassifier()
    : positive_words_({"good", "great", "love", "happy", "excellent"}),
      negative_words_({"bad", "awful", "hate", "sad", "terrible"}) {}

absl::StatusOr<std::vector<SentimentScores>> KeywordClassifier::Classify(
    absl::Span<const std::string_view> texts) const {
  ++calls_;
  if (fail_) return absl::InternalError("keyword classifier told to fail");
  std::vector<SentimentScores> out;
  for (std::string_view text : texts) {
    ++texts_;
    bool pos = false, neg = false;
    std::string word;
    for (size_t i = 0; i <= text.size(); ++i) {
      const unsigned char c = i < text.size() ? text[i] : ' ';
      if (std::isalpha(c)) {
        word.push_back(static_cast<char>(std::tolower(c)));
        continue;
      }
      pos |= positive_words_.count(word) > 0;
      neg |= negative_words_.count(word) > 0;
      word.clear();
    }
    SentimentScores s;
    if (pos && neg) {
      s = {0.1f, 0.1f, 0.1f, 0.7f};
    } else if (pos) {
      s = {0.85f, 0.05f, 0.05f, 0.05f};
    } else if (neg) {
      s = {0.05f, 0.85f, 0.05f, 0.05f};
    } else {
      s = {0.1f / 3, 0.1f / 3, 0.9f, 0.1f / 3};
    }
    out.push_back(s);
  }
  return out;
}

}  // namespace stratus::sentiment::testing
