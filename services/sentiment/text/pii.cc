#include "services/sentiment/text/pii.h"

#include <arpa/inet.h>
#include <phonenumbers/phonenumbermatch.h>
#include <phonenumbers/phonenumbermatcher.h>
#include <phonenumbers/phonenumberutil.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "services/sentiment/text/utf8.h"

namespace stratus::text {
namespace {

// Byte span of one candidate, before overlap resolution.
struct Candidate {
  size_t begin;
  size_t end;
  int priority;  // index in PiiEntityTypes()
  float score;
};

// Index in PiiEntityTypes(): the priority when spans overlap.
enum Type {
  kUrl,
  kEmail,
  kAwsKey,
  kIban,
  kCard,
  kMac,
  kIp,
  kSsn,
  kPhone,
  kDateTime,
};

constexpr float kValidated = 0.99f;
constexpr float kPatternOnly = 0.9f;

bool IsWordByte(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// True when the span is not glued to a letter, digit or '_' on either side.
bool Isolated(std::string_view text, size_t begin, size_t end) {
  return (begin == 0 || !IsWordByte(text[begin - 1])) &&
         (end >= text.size() || !IsWordByte(text[end]));
}

// IBAN lengths by country (the SWIFT registry).
const std::map<std::string, int, std::less<>>& IbanLengths() {
  static const auto* lengths = new std::map<std::string, int, std::less<>>{
      {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16},
      {"BG", 22}, {"BH", 22}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28},
      {"CZ", 24}, {"DE", 22}, {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24},
      {"FI", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18},
      {"GR", 27}, {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23},
      {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32},
      {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"MC", 27}, {"MD", 24}, {"ME", 22},
      {"MK", 19}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NL", 18}, {"NO", 15}, {"PK", 24},
      {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"SA", 24},
      {"SC", 31}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"ST", 25}, {"SV", 28},
      {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20}};
  return *lengths;
}

// A card issuer's prefix (IIN ranges of Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay,
// Maestro) for a number of `n` digits.
bool KnownIssuer(const std::string& d) {
  const size_t n = d.size();
  auto prefix = [&](int digits) { return std::stoi(d.substr(0, digits)); };
  if (d[0] == '4') return n == 13 || n == 16 || n == 19;  // Visa
  const int p2 = prefix(2), p3 = prefix(3), p4 = prefix(4), p6 = prefix(6);
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n == 16;  // Mastercard
  if (p2 == 34 || p2 == 37) return n == 15;                                  // Amex
  if (p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925)) {
    return n >= 16 && n <= 19;  // Discover
  }
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19;  // JCB
  if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39) return n >= 14 && n <= 19;
  if (p2 == 62) return n >= 16 && n <= 19;                            // UnionPay
  if (p2 == 50 || (p2 >= 56 && p2 <= 69)) return n >= 12 && n <= 19;  // Maestro
  return false;
}

int ToInt(std::string_view s) {
  int v = 0;
  return absl::SimpleAtoi(absl::string_view(s.data(), s.size()), &v) ? v : -1;
}

bool ValidIpv4(std::string_view text) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(absl::string_view(text.data(), text.size()), '.');
  if (parts.size() != 4) return false;
  for (absl::string_view p : parts) {
    int v;
    if (p.empty() || p.size() > 3 || (p.size() > 1 && p[0] == '0') || !absl::SimpleAtoi(p, &v) ||
        v > 255) {
      return false;
    }
  }
  return true;
}

bool ValidSsn(std::string_view area, std::string_view group, std::string_view serial) {
  const int a = ToInt(area), g = ToInt(group), s = ToInt(serial);
  return a != 0 && a != 666 && a < 900 && g != 0 && s != 0;
}

bool ValidDate(int year, int month, int day) {
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= kDays[month - 1];
}

int MonthNumber(std::string_view name) {
  static constexpr const char* kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                            "jul", "aug", "sep", "oct", "nov", "dec"};
  const std::string lower = absl::AsciiStrToLower(std::string(name.substr(0, 3)));
  for (int i = 0; i < 12; ++i) {
    if (lower == kMonths[i]) return i + 1;
  }
  return 0;
}

}  // namespace

const std::vector<std::string>& PiiEntityTypes() {
  static const auto* types = new std::vector<std::string>{"URL",
                                                          "EMAIL",
                                                          "AWS_ACCESS_KEY",
                                                          "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
                                                          "CREDIT_DEBIT_NUMBER",
                                                          "MAC_ADDRESS",
                                                          "IP_ADDRESS",
                                                          "SSN",
                                                          "PHONE",
                                                          "DATE_TIME"};
  return *types;
}

bool LuhnValid(std::string_view number) {
  int sum = 0, n = 0;
  for (auto it = number.rbegin(); it != number.rend(); ++it) {
    if (!std::isdigit(static_cast<unsigned char>(*it))) continue;
    int d = *it - '0';
    if (n++ % 2 == 1 && (d *= 2) > 9) d -= 9;
    sum += d;
  }
  return n > 1 && sum % 10 == 0;
}

bool IbanValid(std::string_view iban) {
  std::string s;
  for (char c : iban) {
    if (c != ' ') s.push_back(absl::ascii_toupper(c));
  }
  if (s.size() < 5) return false;
  auto it = IbanLengths().find(std::string_view(s).substr(0, 2));
  if (it == IbanLengths().end() || static_cast<int>(s.size()) != it->second) return false;
  if (!std::isdigit(static_cast<unsigned char>(s[2])) ||
      !std::isdigit(static_cast<unsigned char>(s[3]))) {
    return false;
  }
  const std::string rearranged = s.substr(4) + s.substr(0, 4);
  int remainder = 0;
  for (char c : rearranged) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      remainder = (remainder * 10 + (c - '0')) % 97;
    } else if (c >= 'A' && c <= 'Z') {
      remainder = (remainder * 100 + (c - 'A' + 10)) % 97;
    } else {
      return false;
    }
  }
  return remainder == 1;
}

struct PiiScanner::Rules {
  RE2 email{
      R"(([A-Za-z0-9._%+\-]{1,64})@((?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}))"};
  RE2 url{R"((?i)(?:(?:https?|ftp)://|www\.)[^\s<>"'`]+)"};
  RE2 card{R"(\d+(?:[ \-]\d+)*)"};
  RE2 iban_start{R"([A-Z]{2}\d{2})"};
  RE2 ipv4{R"(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})"};
  RE2 ipv6{R"([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,3})"};
  RE2 mac{
      R"([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})"};
  RE2 aws_key{R"((?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]{16})"};
  RE2 ssn{R"((\d{3})([\- ])(\d{2})([\- ])(\d{4}))"};
  // Dates: ISO (optionally with a time), m/d/y, d.m.y, month names either way round.
  RE2 iso{
      R"((\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+\-]\d{2}:?\d{2})?)?)"};
  RE2 slash{R"((\d{1,2})([/.])(\d{1,2})[/.](\d{4}|\d{2}))"};
  RE2 month_first{
      R"((?i)(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4}))"};
  RE2 day_first{
      R"((?i)(\d{1,2})(?:st|nd|rd|th)? (?:of )?(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?,? (\d{4}))"};
  RE2 clock{R"((?i)(\d{1,2}):(\d{2})(?::(\d{2}))?(?: ?([ap])(?:m|\.m\.))?)"};
  RE2 clock_ampm{R"((?i)(\d{1,2}) ?([ap])(?:m|\.m\.))"};
  const i18n::phonenumbers::PhoneNumberUtil* phone_util =
      i18n::phonenumbers::PhoneNumberUtil::GetInstance();
};

PiiScanner::PiiScanner(const Options& options)
    : options_(options), rules_(std::make_unique<Rules>()) {}
PiiScanner::~PiiScanner() = default;

absl::StatusOr<std::unique_ptr<PiiScanner>> PiiScanner::Create(const Options& options) {
  auto scanner = std::unique_ptr<PiiScanner>(new PiiScanner(options));
  const Rules& r = *scanner->rules_;
  for (const RE2* re :
       {&r.email, &r.url, &r.card, &r.iban_start, &r.ipv4, &r.ipv6, &r.mac, &r.aws_key, &r.ssn,
        &r.iso, &r.slash, &r.month_first, &r.day_first, &r.clock, &r.clock_ampm}) {
    if (!re->ok()) return absl::InternalError("PII rule does not compile: " + re->pattern());
  }
  std::set<std::string> regions;
  r.phone_util->GetSupportedRegions(&regions);
  if (!regions.count(options.default_region)) {
    return absl::InvalidArgumentError("unknown phone region '" + options.default_region + "'");
  }
  return scanner;
}

std::vector<PiiEntity> PiiScanner::Scan(std::string_view text) const {
  const Rules& r = *rules_;
  std::vector<Candidate> found;
  // Every match of `re` in `text` (non-overlapping, left to right) goes to `accept`.
  auto each = [&](const RE2& re, int groups, auto accept) {
    std::vector<re2::StringPiece> m(groups + 1);
    size_t pos = 0;
    while (pos <= text.size() && re.Match(re2::StringPiece(text.data(), text.size()), pos,
                                          text.size(), RE2::UNANCHORED, m.data(), groups + 1)) {
      const size_t begin = m[0].data() - text.data();
      const size_t end = begin + m[0].size();
      accept(begin, end, m);
      pos = end > begin ? end : begin + 1;
    }
  };
  auto add = [&](size_t begin, size_t end, int type, float score) {
    found.push_back({begin, end, type, score});
  };
  auto sv = [](const re2::StringPiece& p) { return std::string_view(p.data(), p.size()); };

  each(r.email, 2, [&](size_t b, size_t e, auto& m) {
    std::string_view local = sv(m[1]);
    if (local.front() == '.' || local.back() == '.' || local.find("..") != local.npos) return;
    if (e < text.size() && (IsWordByte(text[e]) || text[e] == '@')) return;
    add(b, e, kEmail, kValidated);
  });
  each(r.url, 0, [&](size_t b, size_t e, auto&) {
    if (b > 0 && IsWordByte(text[b - 1])) return;
    // Sentence punctuation after a link is not part of it; a ')' only when unbalanced.
    while (e > b) {
      const char c = text[e - 1];
      if (std::string_view(".,;:!?'\"]}>").find(c) != std::string_view::npos) {
        --e;
      } else if (c == ')') {
        std::string_view s = text.substr(b, e - b);
        if (std::count(s.begin(), s.end(), '(') >= std::count(s.begin(), s.end(), ')')) break;
        --e;
      } else {
        break;
      }
    }
    std::string_view s = text.substr(b, e - b);
    const size_t host = s.find("://") == s.npos ? 0 : s.find("://") + 3;
    if (s.find('.', host) == s.npos || s.size() - host < 4) return;
    add(b, e, kUrl, kPatternOnly);
  });
  {
    using i18n::phonenumbers::PhoneNumberMatch;
    using i18n::phonenumbers::PhoneNumberMatcher;
    PhoneNumberMatcher matcher(*r.phone_util, std::string(text), options_.default_region,
                               PhoneNumberMatcher::VALID, 10000);
    PhoneNumberMatch match;
    while (matcher.HasNext() && matcher.Next(&match)) {
      const size_t b = static_cast<size_t>(match.start());
      add(b, b + match.raw_string().size(), kPhone, kValidated);
    }
  }
  // Cards: within each run of digit groups (single spaces or dashes between), the longest
  // stretch of whole groups, leftmost first, with 13-19 digits, an issuer and the checksum.
  each(r.card, 0, [&](size_t b, size_t e, auto&) {
    if (!Isolated(text, b, e)) return;
    std::vector<std::pair<size_t, size_t>> groups;  // byte spans of the digit groups
    for (size_t i = b; i < e;) {
      size_t j = i;
      while (j < e && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
      groups.push_back({i, j});
      i = j + 1;
    }
    for (size_t i = 0; i < groups.size();) {
      size_t best = i;
      std::string digits, best_digits;
      for (size_t j = i; j < groups.size(); ++j) {
        digits += std::string(text.substr(groups[j].first, groups[j].second - groups[j].first));
        if (digits.size() > 19) break;
        if (digits.size() >= 13 && KnownIssuer(digits) && LuhnValid(digits)) {
          best = j + 1, best_digits = digits;
        }
      }
      if (best > i) {
        add(groups[i].first, groups[best - 1].second, kCard, kValidated);
        i = best;
      } else {
        ++i;
      }
    }
  });
  each(r.iban_start, 0, [&](size_t b, size_t e, auto&) {
    if (b > 0 && IsWordByte(text[b - 1])) return;
    auto it = IbanLengths().find(text.substr(b, 2));
    if (it == IbanLengths().end()) return;
    // The country's length in letters and digits, single spaces allowed between them.
    int need = it->second - 4;
    size_t end = e;
    while (need > 0 && end < text.size()) {
      if (text[end] == ' ' && end + 1 < text.size() &&
          std::isalnum(static_cast<unsigned char>(text[end + 1]))) {
        ++end;
        continue;
      }
      if (!std::isalnum(static_cast<unsigned char>(text[end]))) break;
      ++end, --need;
    }
    if (need > 0 || (end < text.size() && IsWordByte(text[end]))) return;
    if (!IbanValid(text.substr(b, end - b))) return;
    add(b, end, kIban, kValidated);
  });
  each(r.ipv4, 0, [&](size_t b, size_t e, auto&) {
    // Not part of a longer dotted number (a version string such as 1.2.3.4.5).
    if (b > 0 && (IsWordByte(text[b - 1]) || text[b - 1] == '.')) return;
    if (e < text.size() &&
        (IsWordByte(text[e]) || (text[e] == '.' && e + 1 < text.size() &&
                                 std::isdigit(static_cast<unsigned char>(text[e + 1]))))) {
      return;
    }
    if (ValidIpv4(text.substr(b, e - b))) add(b, e, kIp, kValidated);
  });
  each(r.ipv6, 0, [&](size_t b, size_t e, auto&) {
    if (b > 0 && (IsWordByte(text[b - 1]) || text[b - 1] == ':')) return;
    if (e < text.size() && (IsWordByte(text[e]) || text[e] == ':')) return;
    const std::string s(text.substr(b, e - b));
    if (s.size() < 3 || std::count(s.begin(), s.end(), ':') < 2) return;
    in6_addr addr;
    if (inet_pton(AF_INET6, s.c_str(), &addr) == 1) add(b, e, kIp, kValidated);
  });
  each(r.mac, 0, [&](size_t b, size_t e, auto&) {
    if (Isolated(text, b, e) && (e >= text.size() || (text[e] != ':' && text[e] != '-'))) {
      add(b, e, kMac, kValidated);
    }
  });
  each(r.aws_key, 0, [&](size_t b, size_t e, auto&) {
    if (Isolated(text, b, e)) add(b, e, kAwsKey, kValidated);
  });
  each(r.ssn, 5, [&](size_t b, size_t e, auto& m) {
    if (!Isolated(text, b, e) || sv(m[2]) != sv(m[4])) return;
    if (b > 0 && (text[b - 1] == '-' || text[b - 1] == '+')) return;
    if (e < text.size() && text[e] == '-') return;
    if (ValidSsn(sv(m[1]), sv(m[3]), sv(m[5]))) add(b, e, kSsn, kValidated);
  });
  each(r.iso, 6, [&](size_t b, size_t e, auto& m) {
    if (!Isolated(text, b, e) || !ValidDate(ToInt(sv(m[1])), ToInt(sv(m[2])), ToInt(sv(m[3])))) {
      return;
    }
    if (!m[4].empty() && (ToInt(sv(m[4])) > 23 || ToInt(sv(m[5])) > 59)) return;
    add(b, e, kDateTime, kPatternOnly);
  });
  each(r.slash, 4, [&](size_t b, size_t e, auto& m) {
    if (!Isolated(text, b, e)) return;
    const int a = ToInt(sv(m[1])), c = ToInt(sv(m[3]));
    int year = ToInt(sv(m[4]));
    // d.m.yy reads like a version number (3.12.45): with dots the year has four digits.
    if (sv(m[2]) == "." && m[4].size() != 4) return;
    if (year < 100) year += 2000;
    // m/d/y with '/', d.m.y with '.'; either order when only one reading is a date.
    const bool slash = sv(m[2]) == "/";
    const bool ok = slash ? (ValidDate(year, a, c) || ValidDate(year, c, a))
                          : (ValidDate(year, c, a) || ValidDate(year, a, c));
    if (ok) add(b, e, kDateTime, kPatternOnly);
  });
  each(r.month_first, 3, [&](size_t b, size_t e, auto& m) {
    if (Isolated(text, b, e) &&
        ValidDate(ToInt(sv(m[3])), MonthNumber(sv(m[1])), ToInt(sv(m[2])))) {
      add(b, e, kDateTime, kPatternOnly);
    }
  });
  each(r.day_first, 3, [&](size_t b, size_t e, auto& m) {
    if (Isolated(text, b, e) &&
        ValidDate(ToInt(sv(m[3])), MonthNumber(sv(m[2])), ToInt(sv(m[1])))) {
      add(b, e, kDateTime, kPatternOnly);
    }
  });
  each(r.clock, 4, [&](size_t b, size_t e, auto& m) {
    if (!Isolated(text, b, e)) return;
    // Not a part of a longer colon-separated token (an IPv6 address, a MAC address, a ratio).
    if ((b > 0 && text[b - 1] == ':') || (e < text.size() && text[e] == ':')) return;
    const int h = ToInt(sv(m[1])), mi = ToInt(sv(m[2]));
    const int s = m[3].empty() ? 0 : ToInt(sv(m[3]));
    const bool ampm = !m[4].empty();
    if (h > (ampm ? 12 : 23) || (ampm && h == 0) || mi > 59 || s > 59) return;
    add(b, e, kDateTime, kPatternOnly);
  });
  each(r.clock_ampm, 2, [&](size_t b, size_t e, auto& m) {
    const int h = ToInt(sv(m[1]));
    if (Isolated(text, b, e) && h >= 1 && h <= 12) add(b, e, kDateTime, kPatternOnly);
  });

  // Overlaps: the higher-priority type keeps its span; within a type the longer one.
  std::sort(found.begin(), found.end(), [](const Candidate& a, const Candidate& b) {
    if (a.priority != b.priority) return a.priority < b.priority;
    if (a.end - a.begin != b.end - b.begin) return a.end - a.begin > b.end - b.begin;
    return a.begin < b.begin;
  });
  std::map<size_t, Candidate> kept;  // by begin; the kept spans never overlap
  for (const Candidate& c : found) {
    auto next = kept.lower_bound(c.begin);
    if (next != kept.end() && next->first < c.end) continue;
    if (next != kept.begin() && std::prev(next)->second.end > c.begin) continue;
    kept.emplace(c.begin, c);
  }
  const CodePointOffsets offsets(text);
  std::vector<PiiEntity> out;
  out.reserve(kept.size());
  for (const auto& [begin, c] : kept) {
    out.push_back({PiiEntityTypes()[c.priority], offsets.At(c.begin), offsets.At(c.end), c.score});
  }
  return out;
}

}  // namespace stratus::text
