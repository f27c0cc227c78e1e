// What the sentiment core needs from a model: texts in, four class probabilities out. The real
// implementation is SentimentModel (sentiment_model.h); tests may use the keyword
// classifier in testing/. Torch-free and proto-free.
#ifndef STRATUS_SERVICES_SENTIMENT_CLASSIFIER_H_
#define STRATUS_SERVICES_SENTIMENT_CLASSIFIER_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace stratus::sentiment {

// Comprehend's SentimentScore: probabilities in [0, 1] that sum to 1.
struct SentimentScores {
  float positive = 0;
  float negative = 0;
  float neutral = 0;
  float mixed = 0;
};

class SentimentClassifier {
 public:
  virtual ~SentimentClassifier() = default;
  // One SentimentScores per text, in order. Callers pass non-empty, valid UTF-8 texts (the core
  // checks them first); any batch size. INTERNAL when the model fails. Thread-safe: called
  // concurrently from RPC threads.
  virtual absl::StatusOr<std::vector<SentimentScores>> Classify(
      absl::Span<const std::string_view> texts) const = 0;
  // The model's name and version, for logs.
  virtual std::string Describe() const = 0;
};

}  // namespace stratus::sentiment

#endif  // STRATUS_SERVICES_SENTIMENT_CLASSIFIER_H_
