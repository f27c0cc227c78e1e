#include "services/sentiment/comprehend_text.h"

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/aws/aws_error.h"
#include "services/sentiment/sentiment.h"

namespace stratus::sentiment {
namespace {

absl::Status Unsupported(std::string_view code, const char* supported) {
  return aws::AwsError(400, "UnsupportedLanguageException",
                       absl::StrCat("Unsupported language code '",
                                    IsValidUtf8(code) ? std::string(code) : "(not UTF-8)",
                                    "': this operation supports ", supported));
}

absl::Status CheckKeyPhraseLanguage(std::string_view code) {
  return code.empty() || code == "en" ? absl::OkStatus() : Unsupported(code, "\"en\"");
}

absl::Status CheckPiiLanguage(std::string_view code) {
  return code.empty() || code == "en" || code == "es" ? absl::OkStatus()
                                                      : Unsupported(code, "\"en\" and \"es\"");
}

void SetBatchError(int index, const absl::Status& s, v1::BatchItemError* error) {
  error->set_index(index);
  if (aws::IsAwsError(s, "TextSizeLimitExceededException")) {
    error->set_error_code("TEXT_SIZE_LIMIT_EXCEEDED");
  } else if (s.code() == absl::StatusCode::kInvalidArgument) {
    error->set_error_code("INVALID_REQUEST");
  } else {
    error->set_error_code("INTERNAL_SERVER_ERROR");
  }
  error->set_error_message(std::string(s.message()));
}

template <typename Languages>
void SetLanguages(const std::vector<text::LanguageScore>& scores, Languages* out) {
  for (const text::LanguageScore& l : scores) {
    v1::DominantLanguage* d = out->Add();
    d->set_language_code(l.code);
    d->set_score(l.score);
  }
}

template <typename Phrases>
void SetKeyPhrases(const std::vector<text::KeyPhrase>& phrases, Phrases* out) {
  for (const text::KeyPhrase& p : phrases) {
    v1::KeyPhrase* k = out->Add();
    k->set_text(p.text);
    k->set_score(p.score);
    k->set_begin_offset(p.begin_offset);
    k->set_end_offset(p.end_offset);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<TextAnalyzer>> TextAnalyzer::Create(const Options& options) {
  if (options.max_text_bytes == 0 || options.max_batch_text_bytes == 0 ||
      options.max_batch_texts <= 0) {
    return absl::InvalidArgumentError("text and batch limits must be positive");
  }
  auto analyzer = std::unique_ptr<TextAnalyzer>(new TextAnalyzer(options));
  auto pii = text::PiiScanner::Create({.default_region = options.phone_region});
  if (!pii.ok()) return pii.status();
  analyzer->pii_ = std::move(*pii);
  auto phrases = text::KeyPhraseExtractor::Create({});
  if (!phrases.ok()) return phrases.status();
  analyzer->key_phrases_ = std::move(*phrases);
  return analyzer;
}

absl::Status TextAnalyzer::LanguageReadiness() const {
  return options_.languages ? absl::OkStatus()
                            : absl::UnavailableError(
                                  "language profiles not installed ($STRATUS_MODEL_DIR/language, "
                                  "make models)");
}

absl::Status TextAnalyzer::CheckBatch(int n) const {
  if (n == 0) {
    return aws::AwsError(
        400, "InvalidRequestException",
        absl::StrCat("TextList must hold 1 to ", options_.max_batch_texts, " texts; it is empty"));
  }
  if (n > options_.max_batch_texts) {
    return aws::AwsError(
        400, "BatchSizeLimitExceededException",
        absl::StrCat("Batch size exceeds limit. Max batch size allowed is ",
                     options_.max_batch_texts, " while in this request the batch size is ", n));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::DetectDominantLanguageResponse> TextAnalyzer::DetectDominantLanguage(
    const v1::DetectDominantLanguageRequest& request) const {
  if (absl::Status s = CheckText(request.text(), options_.max_text_bytes); !s.ok()) return s;
  if (absl::Status s = LanguageReadiness(); !s.ok()) return s;
  v1::DetectDominantLanguageResponse response;
  SetLanguages(options_.languages->Identify(request.text()), response.mutable_languages());
  return response;
}

absl::StatusOr<v1::BatchDetectDominantLanguageResponse> TextAnalyzer::BatchDetectDominantLanguage(
    const v1::BatchDetectDominantLanguageRequest& request) const {
  if (absl::Status s = CheckBatch(request.text_list_size()); !s.ok()) return s;
  if (absl::Status s = LanguageReadiness(); !s.ok()) return s;
  v1::BatchDetectDominantLanguageResponse response;
  for (int i = 0; i < request.text_list_size(); ++i) {
    const std::string& t = request.text_list(i);
    if (absl::Status s = CheckText(t, options_.max_batch_text_bytes); !s.ok()) {
      SetBatchError(i, s, response.add_error_list());
      continue;
    }
    auto* item = response.add_result_list();
    item->set_index(i);
    SetLanguages(options_.languages->Identify(t), item->mutable_languages());
  }
  return response;
}

absl::StatusOr<v1::DetectPiiEntitiesResponse> TextAnalyzer::DetectPiiEntities(
    const v1::DetectPiiEntitiesRequest& request) const {
  if (absl::Status s = CheckPiiLanguage(request.language_code()); !s.ok()) return s;
  if (absl::Status s = CheckText(request.text(), options_.max_text_bytes); !s.ok()) return s;
  v1::DetectPiiEntitiesResponse response;
  for (const text::PiiEntity& e : pii_->Scan(request.text())) {
    v1::PiiEntity* out = response.add_entities();
    out->set_type(e.type);
    out->set_score(e.score);
    out->set_begin_offset(e.begin_offset);
    out->set_end_offset(e.end_offset);
  }
  return response;
}

absl::StatusOr<v1::ContainsPiiEntitiesResponse> TextAnalyzer::ContainsPiiEntities(
    const v1::ContainsPiiEntitiesRequest& request) const {
  if (absl::Status s = CheckPiiLanguage(request.language_code()); !s.ok()) return s;
  if (absl::Status s = CheckText(request.text(), options_.max_text_bytes); !s.ok()) return s;
  std::map<std::string, float> best;
  for (const text::PiiEntity& e : pii_->Scan(request.text())) {
    float& score = best[e.type];
    score = std::max(score, e.score);
  }
  v1::ContainsPiiEntitiesResponse response;
  for (const std::string& type : text::PiiEntityTypes()) {
    if (auto it = best.find(type); it != best.end()) {
      v1::EntityLabel* label = response.add_labels();
      label->set_name(type);
      label->set_score(it->second);
    }
  }
  return response;
}

absl::StatusOr<v1::DetectKeyPhrasesResponse> TextAnalyzer::DetectKeyPhrases(
    const v1::DetectKeyPhrasesRequest& request) const {
  if (absl::Status s = CheckKeyPhraseLanguage(request.language_code()); !s.ok()) return s;
  if (absl::Status s = CheckText(request.text(), options_.max_text_bytes); !s.ok()) return s;
  v1::DetectKeyPhrasesResponse response;
  SetKeyPhrases(key_phrases_->Extract(request.text()), response.mutable_key_phrases());
  return response;
}

absl::StatusOr<v1::BatchDetectKeyPhrasesResponse> TextAnalyzer::BatchDetectKeyPhrases(
    const v1::BatchDetectKeyPhrasesRequest& request) const {
  if (absl::Status s = CheckKeyPhraseLanguage(request.language_code()); !s.ok()) return s;
  if (absl::Status s = CheckBatch(request.text_list_size()); !s.ok()) return s;
  v1::BatchDetectKeyPhrasesResponse response;
  for (int i = 0; i < request.text_list_size(); ++i) {
    const std::string& t = request.text_list(i);
    if (absl::Status s = CheckText(t, options_.max_batch_text_bytes); !s.ok()) {
      SetBatchError(i, s, response.add_error_list());
      continue;
    }
    auto* item = response.add_result_list();
    item->set_index(i);
    SetKeyPhrases(key_phrases_->Extract(t), item->mutable_key_phrases());
  }
  return response;
}

}  // namespace stratus::sentiment
