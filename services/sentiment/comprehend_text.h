// Comprehend's text analyses that need no trained model, without gRPC or HTTP:
// DetectDominantLanguage / BatchDetectDominantLanguage (text/language_id.h), DetectPiiEntities /
// ContainsPiiEntities (text/pii.h), DetectKeyPhrases / BatchDetectKeyPhrases
// (text/key_phrases.h), with Comprehend's limits and error types. The gRPC adapter
// (sentiment_service.h) and the AWS JSON endpoint (comprehend_endpoint.h) are thin layers over
// this class.
//
// Errors (common/aws/aws_error.h types): InvalidRequestException (empty text, invalid UTF-8,
// empty batch), TextSizeLimitExceededException (over max_text_bytes; over max_batch_text_bytes
// for a batch item, which then goes to error_list as TEXT_SIZE_LIMIT_EXCEEDED),
// UnsupportedLanguageException (key phrases: other than "en"; PII: other than "en" or "es"; empty
// means "en"), BatchSizeLimitExceededException (over max_batch_texts); UNAVAILABLE for the
// DominantLanguage calls when no language identifier was given.
//
// Thread safety: every method may be called concurrently once Create() returned.
#ifndef STRATUS_SERVICES_SENTIMENT_COMPREHEND_TEXT_H_
#define STRATUS_SERVICES_SENTIMENT_COMPREHEND_TEXT_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/sentiment/text/key_phrases.h"
#include "services/sentiment/text/language_id.h"
#include "services/sentiment/text/pii.h"
#include "stratus/v1/sentiment.pb.h"

namespace stratus::sentiment {

namespace v1 = ::stratus::v1;

// Comprehend's limit for the single-document calls above ("100 KB").
inline constexpr size_t kMaxDocumentBytes = 100000;

class TextAnalyzer {
 public:
  struct Options {
    // The dominant-language identifier; null: the DominantLanguage calls answer UNAVAILABLE
    // ("language profiles not installed").
    std::shared_ptr<const text::LanguageIdentifier> languages;
    // Phone numbers without a country code are read in this region.
    std::string phone_region = "US";
    size_t max_text_bytes = kMaxDocumentBytes;
    size_t max_batch_text_bytes = 5000;
    int max_batch_texts = 25;
  };

  // INVALID_ARGUMENT for a bad option (a limit of 0, an unknown phone region).
  static absl::StatusOr<std::unique_ptr<TextAnalyzer>> Create(const Options& options);

  // OK when the language identifier is there (the readiness check "language" when wanted).
  absl::Status LanguageReadiness() const;

  absl::StatusOr<v1::DetectDominantLanguageResponse> DetectDominantLanguage(
      const v1::DetectDominantLanguageRequest& request) const;
  absl::StatusOr<v1::BatchDetectDominantLanguageResponse> BatchDetectDominantLanguage(
      const v1::BatchDetectDominantLanguageRequest& request) const;
  absl::StatusOr<v1::DetectPiiEntitiesResponse> DetectPiiEntities(
      const v1::DetectPiiEntitiesRequest& request) const;
  absl::StatusOr<v1::ContainsPiiEntitiesResponse> ContainsPiiEntities(
      const v1::ContainsPiiEntitiesRequest& request) const;
  absl::StatusOr<v1::DetectKeyPhrasesResponse> DetectKeyPhrases(
      const v1::DetectKeyPhrasesRequest& request) const;
  absl::StatusOr<v1::BatchDetectKeyPhrasesResponse> BatchDetectKeyPhrases(
      const v1::BatchDetectKeyPhrasesRequest& request) const;

 private:
  explicit TextAnalyzer(const Options& options) : options_(options) {}
  absl::Status CheckBatch(int size) const;

  Options options_;
  std::unique_ptr<text::PiiScanner> pii_;
  std::unique_ptr<text::KeyPhraseExtractor> key_phrases_;
};

}  // namespace stratus::sentiment

#endif  // STRATUS_SERVICES_SENTIMENT_COMPREHEND_TEXT_H_
