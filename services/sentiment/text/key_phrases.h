// Key phrases of English text: noun phrases found by rules over a small part-of-speech lexicon.
//
// Words (letters, digits, inner apostrophes, hyphens and periods) get a tag from closed-class
// word lists (determiners, pronouns, prepositions, conjunctions, auxiliaries and common verbs,
// adverbs), then from suffixes (-ly adverbs; -ous, -ful, -ive, -able, -al, -ic ... adjectives;
// -ed verbs unless after a determiner; -ing verbs unless after a determiner or adjective; words
// after a subject pronoun or an auxiliary: verbs); any other word is a noun, and a capitalised
// word inside a sentence is a proper noun. A key phrase is
//   [determiner | possessive | number]* [adjective | number]* noun+   (with "of" joining two
//   such phrases when both have a noun: "the bank of America")
// and never crosses punctuation. As Comprehend does, the phrase keeps its determiner ("the new
// phone"). Score: 1 minus 0.1 for each word tagged by suffix or default rather than by the
// lexicon, at least 0.5; not calibrated. Offsets count code points (Comprehend's).
//
// Thread safety: Extract() may be called concurrently.
#ifndef STRATUS_SERVICES_SENTIMENT_TEXT_KEY_PHRASES_H_
#define STRATUS_SERVICES_SENTIMENT_TEXT_KEY_PHRASES_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace stratus::text {

struct KeyPhrase {
  std::string text;  // the phrase as it appears in the input
  int32_t begin_offset = 0;
  int32_t end_offset = 0;
  float score = 0;
};

class KeyPhraseExtractor {
 public:
  struct Options {
    // Phrases longer than this many words are split (Comprehend's phrases are short).
    int max_words = 8;
  };
  static absl::StatusOr<std::unique_ptr<KeyPhraseExtractor>> Create(const Options& options);

  // Phrases in text order. Any bytes are accepted.
  std::vector<KeyPhrase> Extract(std::string_view utf8) const;

 private:
  explicit KeyPhraseExtractor(const Options& options) : options_(options) {}
  Options options_;
};

}  // namespace stratus::text

#endif  // STRATUS_SERVICES_SENTIMENT_TEXT_KEY_PHRASES_H_
