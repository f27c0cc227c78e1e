// The Stratus sentiment model: a linear classifier over hashed text features stacked on the
// VADER and AFINN lexicon scores (training/SENTIMENT.md). Torch-free: the trainer
// (training/sentiment_trainer.h), the evaluation tool and the sentiment service all use this
// one featuriser, so serving computes exactly the features training saw.
//
// Features of a text (SentimentFeaturizer::Featurize):
//   - hashed sparse features (each of value SparseScale) of the feature tokens of Featurize()
//   (encoder.h:
//     tokenizer normal forms, "NOT_" within a negation scope, <allcaps>/<elong>/<!!> signals;
//     weekdays read as "<day>" and clock times as "<time>"):
//     each token, each bigram of consecutive tokens in one clause, and the character n-grams
//     (lengths char_ngram_min..char_ngram_max, over "^word$") of each word, the negated ones in
//     their own namespace;
//   - dense features (kDenseFeatures): VADER's neg/neu/pos/compound of the text and of its last
//     clause, VADER's three decisions, AFINN's sum (squashed) and sign, the summed positive and
//     negative lexicon valence of the tokens (negation flips), emoticon/emoji, elongation,
//     capitals and ?/! counts, length; and the evidence of a plain statement: the number of
//     positive and of negative lexicon tokens, the share of words that are polar, and a flag
//     for a text in which no lexicon or emoji entry fires at all.
// Each clause (clause index of Featurize) is also featurised on its own for MIXED.
//
// Prediction: logits = W x + b over POSITIVE, NEGATIVE, NEUTRAL; softmax. MIXED = the largest
// P(POSITIVE | clause a) x P(NEGATIVE | clause b) over distinct clauses a, b where clause a on
// its own is called POSITIVE and clause b NEGATIVE (0 otherwise, and for one clause); the
// three classes share 1 - MIXED in their whole-text proportions.
//
// Model folder (Save/Load): config.yaml (input.type: stratus_linear_v1 and the featuriser
// options), weights.bin (little-endian float32 [rows][3], rows = 2^buckets_log2 hashed rows,
// then the dense rows, then the bias row, after a 16-byte header "STRSENT1", rows, classes),
// lexicons/vader and lexicons/afinn (copies of the lexicon files the features use).
//
// Thread safety: immutable after Create/Load; Featurize and Predict may run concurrently.
#ifndef STRATUS_RUNTIME_TEXT_SENTIMENT_LINEAR_H_
#define STRATUS_RUNTIME_TEXT_SENTIMENT_LINEAR_H_

#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/text/lexicon.h"

namespace stratus::text {

inline constexpr int kSentimentClasses = 3;  // POSITIVE, NEGATIVE, NEUTRAL (output order)
inline constexpr int kPositive = 0;
inline constexpr int kNegative = 1;
inline constexpr int kNeutral = 2;
inline constexpr int kDenseFeatures = 28;

struct SentimentFeaturizerOptions {
  int buckets_log2 = 20;   // hashed rows: 2^buckets_log2
  bool bigrams = true;     // word bigrams within a clause
  int char_ngram_min = 3;  // 0: no character n-grams
  int char_ngram_max = 5;
  int max_clauses = 8;
};

struct SparseFeatures {
  std::vector<uint32_t> ids;  // hashed rows (repeats count), each of value SparseScale()
  std::array<float, kDenseFeatures> dense{};
};

// The value of each hashed feature: 1 / sqrt(number of ids), so that a text's sparse evidence
// does not grow with its length (longer texts would otherwise drift away from NEUTRAL).
inline float SparseScale(const SparseFeatures& f) {
  return f.ids.empty() ? 0.0f : 1.0f / std::sqrt(static_cast<float>(f.ids.size()));
}

struct TextFeatures {
  SparseFeatures whole;
  // Per clause (only when asked for and the text has two or more clauses).
  std::vector<SparseFeatures> clauses;
};

class SentimentFeaturizer {
 public:
  // `lexicon_dir` holds vader/ and afinn/ (Vader::Load, Afinn::Load).
  static absl::StatusOr<std::unique_ptr<SentimentFeaturizer>> Create(
      const SentimentFeaturizerOptions& options, const std::string& lexicon_dir);

  TextFeatures Featurize(std::string_view text, bool with_clauses) const;

  const SentimentFeaturizerOptions& options() const { return options_; }
  uint32_t buckets() const { return 1u << options_.buckets_log2; }
  const Vader& vader() const { return *vader_; }
  const Afinn& afinn() const { return *afinn_; }
  const std::string& lexicon_dir() const { return lexicon_dir_; }

 private:
  SentimentFeaturizer() = default;
  // Dense features of `text` (VADER scores `v`), tokens [begin, end) of the feature tokens,
  // `last_clause` the VADER scores of the text's last clause.
  void Dense(std::string_view text, const VaderScores& v, const std::vector<std::string>& tokens,
             size_t begin, size_t end, const VaderScores& last_clause, float* out) const;
  SentimentFeaturizerOptions options_;
  std::string lexicon_dir_;
  std::unique_ptr<Vader> vader_;
  std::unique_ptr<Afinn> afinn_;
  std::unordered_set<std::string> dictionary_;  // lexicon words: hashtag and elongation splits
  std::unordered_map<std::string, double> emoji_valence_;
};

// Class probabilities: POSITIVE, NEGATIVE, NEUTRAL, MIXED (sum 1).
using SentimentProbs = std::array<float, 4>;

class LinearSentimentModel {
 public:
  // Zero weights over `featurizer`'s features (training starts here).
  static std::unique_ptr<LinearSentimentModel> Create(
      std::unique_ptr<SentimentFeaturizer> featurizer);
  // Reads a model folder (see above). NOT_FOUND without config.yaml or weights.bin,
  // INVALID_ARGUMENT for a config of another kind, FAILED_PRECONDITION for a weights file
  // that does not match it.
  static absl::StatusOr<std::unique_ptr<LinearSentimentModel>> Load(const std::string& dir);
  // Writes config.yaml (with `labels`, `name` and `version`), weights.bin and the lexicons.
  absl::Status Save(const std::string& dir, const std::string& name,
                    const std::string& version) const;

  SentimentProbs Predict(std::string_view text) const;
  // The three-class logits of featurised input.
  void Logits(const SparseFeatures& f, float* out) const;

  const SentimentFeaturizer& featurizer() const { return *featurizer_; }
  // [rows][3]: hashed rows, dense rows, bias row.
  std::vector<float>& weights() { return weights_; }
  const std::vector<float>& weights() const { return weights_; }
  size_t dense_row() const { return featurizer_->buckets(); }
  size_t bias_row() const { return featurizer_->buckets() + kDenseFeatures; }

 private:
  explicit LinearSentimentModel(std::unique_ptr<SentimentFeaturizer> featurizer);
  std::unique_ptr<SentimentFeaturizer> featurizer_;
  std::vector<float> weights_;
};

}  // namespace stratus::text

#endif  // STRATUS_RUNTIME_TEXT_SENTIMENT_LINEAR_H_
