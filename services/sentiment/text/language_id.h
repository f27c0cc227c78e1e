// Dominant-language identification by character trigrams, over the profiles that
// scripts/models.d/50-language-profiles.sh converts from the npm package `franc` (MIT; profiles of
// the Universal Declaration of Human Rights' translations) into
// $STRATUS_MODEL_DIR/language/profiles.tsv.
//
// Profile file (UTF-8, tab-separated, '#' lines are comments):
//   source    <what produced the file>
//   trigrams  <ICU script name>  <ISO 639-1 code>  <ISO 639-3 code>  <tri>|<tri>|... (most frequent
//   first) script    <ICU script name>  <ISO 639-1 code>  <ISO 639-3 code>  (a script written by
//   one language)
// Several profiles may share an ISO 639-1 code (e.g. Quechua varieties); the best one counts.
//
// Identify() groups the text's letters by script (Han, Hiragana and Katakana together: Japanese
// when kana make up at least a tenth of them, else Chinese). A group's share of the letters is
// split among its script's languages: a script of one language gets it whole; a script with
// trigram profiles splits it by Options::scoring (by default the posterior of a Zipf model of
// each ranked profile). Scores are in [0, 1] and sum to at most 1; they rank candidates and are
// not calibrated probabilities (the Zipf posterior is overconfident).
//
// Thread safety: Identify() may be called concurrently.
#ifndef STRATUS_SERVICES_SENTIMENT_TEXT_LANGUAGE_ID_H_
#define STRATUS_SERVICES_SENTIMENT_TEXT_LANGUAGE_ID_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"

namespace stratus::text {

struct LanguageScore {
  std::string code;  // ISO 639-1, as Comprehend gives it ("en", "zh")
  float score = 0;   // in [0, 1]
};

class LanguageIdentifier {
 public:
  struct Options {
    // The profile file (format above). Required by Create().
    std::string profiles_path;
    // Trigrams of the text compared at most (its most frequent; profiles hold 300).
    int max_trigrams = 300;
    // How a profile scores the text's trigrams:
    //   kOutOfPlace: Cavnar and Trenkle's out-of-place distance d (divided by its maximum);
    //     scores softmax(-sharpness * (d - d_min)).
    //   kZipfLikelihood: each profile is read as a trigram distribution, P(rank r) =
    //     0.9 / ((r + 1) * H_300) and 0.1 / 5000 for a trigram it lacks; scores are the
    //     posterior under a uniform prior, exp(log-likelihood - best log-likelihood), normalised.
    enum class Scoring { kOutOfPlace, kZipfLikelihood };
    Scoring scoring = Scoring::kZipfLikelihood;
    // kOutOfPlace's softmax sharpness; a gap of 0.05 gives a ratio of e^-2.
    float sharpness = 40.0f;
    // Results below this score are dropped; at most max_results are returned.
    float min_score = 0.01f;
    int max_results = 5;
  };

  // NOT_FOUND when the file is missing, INVALID_ARGUMENT when it does not parse or holds no
  // profile.
  static absl::StatusOr<std::unique_ptr<LanguageIdentifier>> Create(const Options& options);
  // The same from the file's contents (tests).
  static absl::StatusOr<std::unique_ptr<LanguageIdentifier>> FromString(std::string_view tsv,
                                                                        const Options& options);

  // Candidates sorted by score, highest first (ties by code); empty when the text has no letter.
  // Any bytes are accepted (invalid UTF-8 counts as U+FFFD, which is no letter).
  std::vector<LanguageScore> Identify(std::string_view utf8) const;

  // Distinct ISO 639-1 codes the profiles can answer.
  std::vector<std::string> Languages() const;
  // The file's `source` line ("" when absent).
  const std::string& source() const { return source_; }

 private:
  struct Profile {
    std::string code;
    std::unordered_map<uint64_t, int> rank;  // packed trigram -> rank (0 = most frequent)
  };
  explicit LanguageIdentifier(const Options& options) : options_(options) {}
  void ScoreGroup(int script, const std::u32string& letters, float share,
                  std::unordered_map<std::string, float>* scores) const;

  Options options_;
  std::string source_;
  std::unordered_map<int, std::vector<Profile>> trigram_profiles_;  // ICU UScriptCode -> profiles
  std::unordered_map<int, std::string> script_language_;            // UScriptCode -> code
};

}  // namespace stratus::text

#endif  // STRATUS_SERVICES_SENTIMENT_TEXT_LANGUAGE_ID_H_
