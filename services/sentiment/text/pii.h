// PII detection by rules with validators, in Comprehend's entity types:
//   URL                                http(s)/ftp:// or www. links (trailing punctuation left out)
//   EMAIL                              local@domain.tld (local part <= 64, no "..")
//   AWS_ACCESS_KEY                     AKIA/ASIA/... followed by 16 upper-case letters or digits
//   INTERNATIONAL_BANK_ACCOUNT_NUMBER  country code, the country's IBAN length, mod 97 == 1
//   CREDIT_DEBIT_NUMBER                13-19 digits (spaces or dashes between groups), a card
//                                      issuer's prefix, Luhn checksum
//   MAC_ADDRESS                        six hex pairs with ':' or '-', or Cisco's xxxx.xxxx.xxxx
//   IP_ADDRESS                         dotted IPv4 (each part <= 255), IPv6 as inet_pton reads it
//   SSN                                US SSN ddd-dd-dddd or ddd dd dddd outside the unassigned
//                                      ranges (area 000, 666, 9xx; group 00; serial 0000)
//   PHONE                              libphonenumber's matcher, leniency VALID (the number must
//                                      exist in its metadata), numbers without +CC read as
//                                      Options::default_region
//   DATE_TIME                          ISO 8601 dates and date-times, m/d/y and d.m.yyyy, "March 3,
//                                      2024", "3 March 2024", clock times (14:05, 2:30 pm, 7 a.m.)
// No NAME, ADDRESS, or other types that need a model or a name list.
// Where rules overlap, the earlier type in the list above keeps the span. Scores are fixed per
// rule (0.99 for validated types, 0.9 for pattern-only ones); they are not calibrated.
// Offsets count Unicode code points of the UTF-8 text, as Comprehend's do; EndOffset is one past
// the last code point.
//
// Thread safety: Scan() may be called concurrently.
#ifndef STRATUS_SERVICES_SENTIMENT_TEXT_PII_H_
#define STRATUS_SERVICES_SENTIMENT_TEXT_PII_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace stratus::text {

struct PiiEntity {
  std::string type;  // "EMAIL", "PHONE", ...
  int32_t begin_offset = 0;
  int32_t end_offset = 0;
  float score = 0;
};

// The types above, in priority order.
const std::vector<std::string>& PiiEntityTypes();

// True when the digits of `number` (other characters ignored) pass the Luhn checksum.
bool LuhnValid(std::string_view number);
// True when `iban` (spaces ignored) has a known country's length and passes ISO 7064 mod 97-10.
bool IbanValid(std::string_view iban);

class PiiScanner {
 public:
  struct Options {
    // ISO 3166 region for phone numbers written without a country code.
    std::string default_region = "US";
  };
  static absl::StatusOr<std::unique_ptr<PiiScanner>> Create(const Options& options);
  ~PiiScanner();

  // Entities sorted by begin offset. Any bytes are accepted (invalid UTF-8 counts as one code
  // point per bad byte).
  std::vector<PiiEntity> Scan(std::string_view utf8) const;

 private:
  struct Rules;
  explicit PiiScanner(const Options& options);
  Options options_;
  std::unique_ptr<Rules> rules_;
};

}  // namespace stratus::text

#endif  // STRATUS_SERVICES_SENTIMENT_TEXT_PII_H_
