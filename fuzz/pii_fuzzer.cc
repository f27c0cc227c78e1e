// The text analyses behind DetectPiiEntities, DetectKeyPhrases and DetectDominantLanguage
// (services/sentiment/text/) on arbitrary bytes. Checks: no crash or undefined behaviour, and
// their promises hold: PII entities have 0 <= begin < end <= the text's code points, in order,
// without overlaps, of a listed type; key phrases have valid offsets and their text is the
// input's bytes at those offsets; language scores are in [0, 1], sorted, summing to at most 1.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "services/sentiment/text/key_phrases.h"
#include "services/sentiment/text/language_id.h"
#include "services/sentiment/text/pii.h"
#include "services/sentiment/text/utf8.h"

namespace text = stratus::text;

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

constexpr char kProfiles[] =
    "trigrams\tLatin\ten\teng\t th|the|he | an|and|nd |ing|ng | of|of \n"
    "trigrams\tLatin\tes\tspa\t de|de | la|la |os | el|el |que|ue \n"
    "trigrams\tCyrillic\tru\trus\t пр|при| и |ост|сть\n"
    "script\tHan\tzh\tcmn\n"
    "script\tHiragana\tja\tjpn\n";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto* pii = text::PiiScanner::Create({}).value().release();
  static const auto* phrases = text::KeyPhraseExtractor::Create({}).value().release();
  static const auto* languages =
      text::LanguageIdentifier::FromString(kProfiles, {}).value().release();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::vector<text::CodePoint> cps = text::DecodeUtf8(input);
  const int32_t n = static_cast<int32_t>(cps.size());
  auto byte_at = [&](int32_t cp) { return cp < n ? cps[cp].byte_offset : input.size(); };

  int32_t last_end = 0;
  for (const text::PiiEntity& e : pii->Scan(input)) {
    Check(e.begin_offset >= last_end && e.begin_offset < e.end_offset && e.end_offset <= n);
    bool listed = false;
    for (const std::string& t : text::PiiEntityTypes()) listed = listed || t == e.type;
    Check(listed && e.score > 0 && e.score <= 1);
    last_end = e.end_offset;
  }
  for (const text::KeyPhrase& k : phrases->Extract(input)) {
    Check(k.begin_offset >= 0 && k.begin_offset < k.end_offset && k.end_offset <= n);
    const size_t b = byte_at(k.begin_offset), e = byte_at(k.end_offset);
    Check(input.substr(b, e - b) == k.text);
    Check(k.score >= 0.5f && k.score <= 1);
  }
  float sum = 0, previous = 2;
  for (const text::LanguageScore& l : languages->Identify(input)) {
    Check(l.score >= 0 && l.score <= 1 && l.score <= previous && !l.code.empty());
    previous = l.score;
    sum += l.score;
  }
  Check(sum <= 1.001f);
  return 0;
}
