// PII precision and recall on a SYNTHETIC set: sentences that this program makes from templates
// with a seeded generator, each holding zero to three entities of the types pii.h detects (made
// to be valid: Luhn check digits, IBAN check digits, assigned SSN ranges, real US area codes),
// and look-alikes that are not PII (numbers failing Luhn or mod 97, version strings, prices,
// order numbers, unassigned SSNs). Some sentences start with non-ASCII words so that offsets are
// code points. An entity counts as found when type, BeginOffset and EndOffset all match (exact);
// "overlap" counts the same type on overlapping spans. The set is made by the same author as the
// rules, so the figures say how well the rules do on the formats generated here, not on real text.
//   stratus-bench-pii [--sentences N] [--seed S]
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "common/flags.h"
#include "services/sentiment/text/pii.h"
#include "services/sentiment/text/utf8.h"

namespace {

using stratus::text::PiiEntity;

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Int(0, static_cast<int>(v.size()) - 1)];
  }
  std::string Digits(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s.push_back(static_cast<char>('0' + Int(0, 9)));
    return s;
  }
  std::string Upper(int n, const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
    std::string s;
    const int len = static_cast<int>(std::string(alphabet).size());
    for (int i = 0; i < n; ++i) s.push_back(alphabet[Int(0, len - 1)]);
    return s;
  }

  std::string Email() {
    static const std::vector<std::string> first = {"jane", "li.wei",  "o.brien", "maria",
                                                   "sam",  "a.kumar", "zoe",     "j_smith"};
    static const std::vector<std::string> domain = {"example.com", "mail.example.org",
                                                    "corp.example.co.uk", "example.net"};
    std::string local = Pick(first);
    if (Int(0, 1)) local += std::to_string(Int(1, 99));
    if (Int(0, 4) == 0) local += "+news";
    return local + "@" + Pick(domain);
  }
  std::string Url() {
    static const std::vector<std::string> host = {"example.com", "shop.example.org",
                                                  "docs.example.net", "example.io"};
    static const std::vector<std::string> path = {
        "", "/", "/account/settings", "/a/b?id=42", "/search?q=red+shoes&page=2", "/index.html"};
    switch (Int(0, 2)) {
      case 0:
        return "https://" + Pick(host) + Pick(path);
      case 1:
        return "http://www." + Pick(host) + Pick(path);
      default:
        return "www." + Pick(host) + Pick(path);
    }
  }
  std::string Phone() {
    static const std::vector<std::string> area = {"201", "202", "212", "213", "305", "312", "404",
                                                  "415", "503", "512", "617", "646", "702", "713",
                                                  "718", "773", "206", "303", "408", "310"};
    std::string exchange;
    do exchange = std::to_string(Int(200, 999));
    while (exchange == "555" || exchange.substr(1) == "11");
    const std::string a = Pick(area), line = Digits(4);
    switch (Int(0, 6)) {
      case 0:
        return "(" + a + ") " + exchange + "-" + line;
      case 1:
        return a + "-" + exchange + "-" + line;
      case 2:
        return "+1 " + a + " " + exchange + " " + line;
      case 3:
        return a + "." + exchange + "." + line;
      case 4:
        return "+44 20 7" + Digits(3) + " " + Digits(4);
      case 5:
        return "+49 30 " + Digits(8);
      default:
        return "+33 1 " + Digits(2) + " " + Digits(2) + " " + Digits(2) + " " + Digits(2);
    }
  }
  static char LuhnDigit(const std::string& partial) {
    int sum = 0;
    for (size_t i = 0; i < partial.size(); ++i) {
      int d = partial[partial.size() - 1 - i] - '0';
      if (i % 2 == 0 && (d *= 2) > 9) d -= 9;
      sum += d;
    }
    return static_cast<char>('0' + (10 - sum % 10) % 10);
  }
  std::string CardDigits(bool valid) {
    std::string d;
    int len = 16;
    switch (Int(0, 2)) {
      case 0:
        d = "4" + Digits(14);
        break;
      case 1:
        d = std::to_string(Int(51, 55)) + Digits(13);
        break;
      default:
        d = (Int(0, 1) ? "34" : "37") + Digits(12), len = 15;
    }
    char check = LuhnDigit(d);
    if (!valid) check = static_cast<char>('0' + (check - '0' + Int(1, 9)) % 10);
    d.push_back(check);
    (void)len;
    return d;
  }
  std::string Card(bool valid) {
    const std::string d = CardDigits(valid);
    const int style = Int(0, 2);
    if (style == 0) return d;
    const std::string sep = style == 1 ? " " : "-";
    if (d.size() == 15) return d.substr(0, 4) + sep + d.substr(4, 6) + sep + d.substr(10);
    return d.substr(0, 4) + sep + d.substr(4, 4) + sep + d.substr(8, 4) + sep + d.substr(12);
  }
  std::string Iban(bool valid) {
    struct Country {
      const char* cc;
      int letters;
      int digits;
    };
    static const std::vector<Country> countries = {{"DE", 0, 18}, {"GB", 4, 14}, {"FR", 0, 23},
                                                   {"NL", 4, 10}, {"ES", 0, 20}, {"BE", 0, 12}};
    const Country& c = Pick(countries);
    const std::string bban = Upper(c.letters) + Digits(c.digits);
    // Check digits: 98 - (BBAN + CC + "00" as a number) mod 97.
    int r = 0;
    for (char ch : bban + c.cc + "00") {
      r = ch >= 'A' ? (r * 100 + (ch - 'A' + 10)) % 97 : (r * 10 + (ch - '0')) % 97;
    }
    int check = 98 - r;
    if (!valid) check = (check + Int(1, 50)) % 100;
    const std::string iban = absl::StrFormat("%s%02d%s", c.cc, check, bban);
    if (Int(0, 1)) return iban;
    std::string grouped;
    for (size_t i = 0; i < iban.size(); i += 4) grouped += (i ? " " : "") + iban.substr(i, 4);
    return grouped;
  }
  std::string Ip() {
    if (Int(0, 3) == 0) {
      const std::string g1 = absl::StrFormat("%x", Int(1, 0xffff));
      const std::string g2 = absl::StrFormat("%x", Int(1, 0xffff));
      return Int(0, 1) ? "2001:db8::" + g1 + ":" + g2
                       : absl::StrFormat("fe80:0:0:0:%x:%x:%x:%x", Int(0, 0xffff), Int(0, 0xffff),
                                         Int(0, 0xffff), Int(1, 0xffff));
    }
    return absl::StrFormat("%d.%d.%d.%d", Int(1, 223), Int(0, 255), Int(0, 255), Int(1, 254));
  }
  std::string Mac() {
    const std::string sep = Int(0, 1) ? ":" : "-";
    std::string m;
    for (int i = 0; i < 6; ++i)
      m += (i ? sep : "") + absl::StrFormat(Int(0, 1) ? "%02X" : "%02x", Int(0, 255));
    return m;
  }
  std::string Date() {
    static const std::vector<std::string> months = {
        "January", "February", "March",     "April",   "May",      "June",
        "July",    "August",   "September", "October", "November", "December"};
    const int y = Int(1990, 2030), m = Int(1, 12), d = Int(1, 28);
    switch (Int(0, 5)) {
      case 0:
        return absl::StrFormat("%04d-%02d-%02d", y, m, d);
      case 1:
        return absl::StrFormat("%s %d, %d", months[m - 1], d, y);
      case 2:
        return absl::StrFormat("%d/%d/%d", m, d, y);
      case 3:
        return absl::StrFormat("%d %s %d", d, months[m - 1], y);
      case 4:
        return absl::StrFormat("%d:%02d", Int(0, 23), Int(0, 59));
      default:
        return absl::StrFormat("%d:%02d %s", Int(1, 12), Int(0, 59), Int(0, 1) ? "pm" : "am");
    }
  }
  std::string AwsKey() { return "AKIA" + Upper(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"); }
  std::string Ssn(bool valid) {
    int area;
    do area = Int(1, 899);
    while (area == 666);
    if (!valid) area = Pick(std::vector<int>{0, 666, Int(900, 999)});
    return absl::StrFormat("%03d-%02d-%04d", area, Int(1, 99), Int(1, 9999));
  }
  // Text that holds no PII but looks a little like it.
  std::string LookAlike() {
    switch (Int(0, 7)) {
      case 0:
        return Card(false);
      case 1:
        return Iban(false);
      case 2:
        return absl::StrFormat("version %d.%d.%d", Int(0, 9), Int(0, 20), Int(0, 99));
      case 3:
        return absl::StrFormat("$%d,%03d.%02d", Int(1, 99), Int(0, 999), Int(0, 99));
      case 4:
        return "order #" + Digits(6) + "-" + Digits(3);
      case 5:
        return Ssn(false);
      case 6:
        return "ticket " + Digits(9);
      default:
        return absl::StrFormat("%d.%d.%d.%d.%d", Int(1, 9), Int(0, 9), Int(0, 9), Int(0, 9),
                               Int(0, 9));
    }
  }

 private:
  std::mt19937 rng_;
};

struct Gold {
  std::string type;
  int32_t begin, end;
};

int32_t CodePoints(const std::string& s) {
  return static_cast<int32_t>(stratus::text::DecodeUtf8(s).size());
}

}  // namespace

int main(int argc, char** argv) {
  int sentences = 3000, seed = 20240601, show_errors = 0;
  stratus::FlagSet flags("stratus-bench-pii", "PII precision and recall on a synthetic set.");
  flags.Int("sentences", "", &sentences, "sentences to generate");
  flags.Int("seed", "", &seed, "generator seed");
  flags.Int("show-errors", "", &show_errors, "print this many misses and false positives");
  if (auto s = flags.Parse(argc, argv); !s.ok()) {
    std::cerr << s << "\n" << flags.Usage();
    return 2;
  }
  auto scanner = stratus::text::PiiScanner::Create({});
  if (!scanner.ok()) {
    std::cerr << scanner.status() << "\n";
    return 1;
  }
  Generator g(static_cast<uint32_t>(seed));
  const std::vector<std::string> openers = {
      "", "", "", "Café note: ", "Über-urgent: ", "😀 ", "Re: ", "FYI, "};
  const std::vector<std::string> glue = {
      "Please use {} for this.",  "I wrote {} on the form yesterday.",
      "You can reach it at {}.",  "Details: {} (see attached).",
      "Is {} still right?",       "{} was in the log.",
      "we need {} before Friday", "Note that {}, and nothing else, matters."};
  struct Count {
    int tp = 0, fp = 0, fn = 0, overlap_tp = 0;
  };
  std::map<std::string, Count> counts;
  int entities = 0, lookalikes = 0;
  for (int n = 0; n < sentences; ++n) {
    std::string text = g.Pick(openers);
    std::vector<Gold> gold;
    const int parts = g.Int(1, 3);
    for (int p = 0; p < parts; ++p) {
      const std::string& tmpl = g.Pick(glue);
      const size_t hole = tmpl.find("{}");
      if (p) text += " ";
      text += tmpl.substr(0, hole);
      std::string value, type;
      switch (g.Int(0, 10)) {
        case 0:
          value = g.Email(), type = "EMAIL";
          break;
        case 1:
          value = g.Url(), type = "URL";
          break;
        case 2:
          value = g.Phone(), type = "PHONE";
          break;
        case 3:
          value = g.Card(true), type = "CREDIT_DEBIT_NUMBER";
          break;
        case 4:
          value = g.Iban(true), type = "INTERNATIONAL_BANK_ACCOUNT_NUMBER";
          break;
        case 5:
          value = g.Ip(), type = "IP_ADDRESS";
          break;
        case 6:
          value = g.Mac(), type = "MAC_ADDRESS";
          break;
        case 7:
          value = g.Date(), type = "DATE_TIME";
          break;
        case 8:
          value = g.AwsKey(), type = "AWS_ACCESS_KEY";
          break;
        case 9:
          value = g.Ssn(true), type = "SSN";
          break;
        default:
          value = g.LookAlike();
          ++lookalikes;
      }
      const int32_t begin = CodePoints(text);
      text += value;
      if (!type.empty()) {
        gold.push_back({type, begin, CodePoints(text)});
        ++entities;
      }
      text += tmpl.substr(hole + 2);
    }
    std::vector<PiiEntity> found = (*scanner)->Scan(text);
    std::vector<bool> matched(found.size(), false);
    for (const Gold& want : gold) {
      bool exact = false, overlap = false;
      for (size_t i = 0; i < found.size(); ++i) {
        const PiiEntity& f = found[i];
        if (f.type != want.type) continue;
        if (f.begin_offset == want.begin && f.end_offset == want.end)
          exact = true, matched[i] = true;
        if (f.begin_offset < want.end && want.begin < f.end_offset) overlap = true;
      }
      Count& c = counts[want.type];
      if (exact)
        ++c.tp;
      else
        ++c.fn;
      c.overlap_tp += overlap;
    }
    for (size_t i = 0; i < found.size(); ++i) {
      if (matched[i]) continue;
      ++counts[found[i].type].fp;
      if (show_errors > 0) {
        --show_errors;
        std::cout << "false " << found[i].type << " [" << found[i].begin_offset << ","
                  << found[i].end_offset << "): " << text << "\n";
      }
    }
  }
  std::cout << absl::StrFormat(
      "synthetic set: %d sentences (seed %d), %d entities, %d look-alikes without PII\n", sentences,
      seed, entities, lookalikes);
  std::cout << absl::StrFormat("%-34s %6s %6s %6s %9s %7s %15s\n", "type", "gold", "tp", "fp",
                               "precision", "recall", "recall(overlap)");
  Count all;
  for (const auto& [type, c] : counts) {
    const int gold_n = c.tp + c.fn;
    std::cout << absl::StrFormat("%-34s %6d %6d %6d %8.1f%% %6.1f%% %14.1f%%\n", type, gold_n, c.tp,
                                 c.fp, c.tp + c.fp ? 100.0 * c.tp / (c.tp + c.fp) : 0.0,
                                 gold_n ? 100.0 * c.tp / gold_n : 0.0,
                                 gold_n ? 100.0 * c.overlap_tp / gold_n : 0.0);
    all.tp += c.tp, all.fp += c.fp, all.fn += c.fn, all.overlap_tp += c.overlap_tp;
  }
  std::cout << absl::StrFormat("%-34s %6d %6d %6d %8.1f%% %6.1f%% %14.1f%%\n", "all (micro)",
                               all.tp + all.fn, all.tp, all.fp,
                               100.0 * all.tp / std::max(1, all.tp + all.fp),
                               100.0 * all.tp / std::max(1, all.tp + all.fn),
                               100.0 * all.overlap_tp / std::max(1, all.tp + all.fn));
  return 0;
}
