// Turns a text into the integer inputs of a Stratus text classifier (`ngram_bag` models): the
// ids of its word features and hashed word bigrams, and the clause each feature belongs to.
// Torch-free: the trainer and the sentiment service both use it, so serving sees exactly the
// features training saw. See training/SENTIMENT.md for the model's inputs and outputs.
//
// Features of a text, in order (Featurize):
//   - each token of Tokenize(text) (tokenizer.h) by its normal form; a word within three words
//     after a negator ("not", "n't", "never"...) and before the next punctuation is prefixed
//     "NOT_" ("not good" -> "not" "NOT_good");
//   - signal features after the token they qualify: "<allcaps>" (written in capitals),
//     "<elong>" (letters/emoji repeated), "<!!>" (repeated ! or ?);
//   - clause index: starts at 0, goes up after . ! ? ; ... and before a contrastive conjunction
//     (but, however, although, though, yet, whereas); capped at max_clauses - 1.
// Ids (Encode): unigram -> its line in the vocabulary (0 = <pad>, 1 = <unk> for unknown);
// bigram of two consecutive token features in one clause -> vocab_size + FNV-1a64("a\x01b") %
// bigram_buckets, placed after its second word. At most max_tokens ids; the rest is cut.
//
// Thread safety: immutable after creation; Encode may be called from many threads.
#ifndef STRATUS_RUNTIME_TEXT_ENCODER_H_
#define STRATUS_RUNTIME_TEXT_ENCODER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/text/tokenizer.h"

namespace stratus::text {

struct Features {
  std::vector<std::string> tokens;  // features, signals included
  std::vector<int> clause;          // clause index of each feature
  std::vector<bool> is_signal;      // "<allcaps>", "<elong>", "<!!>"
};

// Features of `text` (see above). `dictionary` as in TokenizerOptions (may be null).
Features Featurize(std::string_view text, const std::unordered_set<std::string>* dictionary,
                   int max_clauses);

uint64_t Fnv1a64(std::string_view s);

struct EncoderOptions {
  std::vector<std::string> vocab;   // id -> feature; vocab[0] = "<pad>", vocab[1] = "<unk>"
  int64_t bigram_buckets = 100000;  // hashed bigram ids follow the vocabulary
  int max_tokens = 256;             // ids per text at most
  int max_clauses = 8;              // clause ids are 0..max_clauses-1
};

class TextEncoder {
 public:
  static absl::StatusOr<std::unique_ptr<TextEncoder>> Create(EncoderOptions options);
  // Reads the `input:` section of MODEL_DIR/config.yaml and the vocabulary file it names.
  static absl::StatusOr<std::unique_ptr<TextEncoder>> Load(const std::string& model_dir);

  struct Encoded {
    std::vector<int64_t> ids;      // never empty: a text with no features gives {1} (<unk>)
    std::vector<int64_t> clauses;  // same length
  };
  Encoded Encode(std::string_view text) const;

  // Row-major [n, T] tensors padded with id 0 (clause 0), T = the longest row (>= 1).
  void EncodeBatch(const std::vector<std::string_view>& texts, std::vector<int64_t>* ids,
                   std::vector<int64_t>* clauses, int64_t* t) const;

  int64_t num_embeddings() const {
    return static_cast<int64_t>(options_.vocab.size()) + options_.bigram_buckets;
  }
  const EncoderOptions& options() const { return options_; }
  // Writes the vocabulary, one feature a line (line number = id).
  absl::Status WriteVocab(const std::string& path) const;

 private:
  explicit TextEncoder(EncoderOptions options);
  EncoderOptions options_;
  std::unordered_map<std::string, int64_t> index_;
  std::unordered_set<std::string> dictionary_;  // plain words of the vocabulary
};

}  // namespace stratus::text

#endif  // STRATUS_RUNTIME_TEXT_ENCODER_H_
