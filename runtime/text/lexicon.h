// Sentiment lexicons and the two lexicon baselines the trained sentiment model is compared with:
// VADER (Hutto & Gilbert 2014, rules as in vaderSentiment 3.3: negation within three words,
// boosters and dampeners, ALL CAPS emphasis when the text mixes cases, "but" shifting weight to
// the clause after it, "least", "never so", "without doubt", exclamation and question marks,
// emoji through their descriptions) and AFINN-165 (sum of word and phrase scores, emoticons).
// Torch-free. Thread safety: immutable after Load; all methods const.
#ifndef STRATUS_RUNTIME_TEXT_LEXICON_H_
#define STRATUS_RUNTIME_TEXT_LEXICON_H_

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"

namespace stratus::text {

struct VaderScores {
  double neg = 0, neu = 0, pos = 0, compound = 0;
};

class Vader {
 public:
  // `dir` holds vader_lexicon.txt and emoji_utf8_lexicon.txt.
  static absl::StatusOr<std::unique_ptr<Vader>> Load(const std::string& dir);

  VaderScores PolarityScores(std::string_view text) const;

  // Lexicon valence (-4..4) of a lower-case token, 0 when absent.
  double Valence(std::string_view token) const;
  const std::unordered_map<std::string, double>& lexicon() const { return lexicon_; }
  // Emoji -> its description ("grinning face").
  const std::unordered_map<std::string, std::string>& emoji() const { return emoji_; }

 private:
  double SentimentValence(double valence, const std::vector<std::string>& words, size_t i,
                          bool is_cap_diff) const;
  bool InLexicon(const std::string& lower) const { return lexicon_.count(lower) > 0; }

  std::unordered_map<std::string, double> lexicon_;
  std::unordered_map<std::string, std::string> emoji_;
};

class Afinn {
 public:
  // `dir` holds AFINN-en-165.txt and AFINN-emoticon-8.txt.
  static absl::StatusOr<std::unique_ptr<Afinn>> Load(const std::string& dir);

  // Sum of the scores of the words, phrases and emoticons found (AFINN's score()).
  double Score(std::string_view text) const;
  const std::unordered_map<std::string, double>& words() const { return words_; }

 private:
  std::unordered_map<std::string, double> words_;    // single words
  std::unordered_map<std::string, double> phrases_;  // multi-word entries, space-joined
  std::unordered_map<std::string, double> emoticons_;
  size_t max_phrase_words_ = 1;
};

}  // namespace stratus::text

#endif  // STRATUS_RUNTIME_TEXT_LEXICON_H_
