#include "runtime/text/lexicon.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace stratus::text {
namespace {

constexpr double kBIncr = 0.293;
constexpr double kBDecr = -0.293;
constexpr double kCIncr = 0.733;
constexpr double kNScalar = -0.74;

const std::unordered_set<std::string>& VaderNegate() {
  static const auto* k = new std::unordered_set<std::string>{
      "aint",   "arent",    "cannot",  "cant",     "couldnt",  "darent",   "didnt",   "doesnt",
      "ain't",  "aren't",   "can't",   "couldn't", "daren't",  "didn't",   "doesn't", "dont",
      "hadnt",  "hasnt",    "havent",  "isnt",     "mightnt",  "mustnt",   "neither", "don't",
      "hadn't", "hasn't",   "haven't", "isn't",    "mightn't", "mustn't",  "neednt",  "needn't",
      "never",  "none",     "nope",    "nor",      "not",      "nothing",  "nowhere", "oughtnt",
      "shant",  "shouldnt", "uhuh",    "wasnt",    "werent",   "oughtn't", "shan't",  "shouldn't",
      "uh-uh",  "wasn't",   "weren't", "without",  "wont",     "wouldnt",  "won't",   "wouldn't",
      "rarely", "seldom",   "despite"};
  return *k;
}

const std::unordered_map<std::string, double>& Boosters() {
  static const auto* k = [] {
    auto* m = new std::unordered_map<std::string, double>;
    for (const char* w :
         {"absolutely",   "amazingly",  "awfully",      "completely",    "considerable",
          "considerably", "decidedly",  "deeply",       "effing",        "enormous",
          "enormously",   "entirely",   "especially",   "exceptional",   "exceptionally",
          "extreme",      "extremely",  "fabulously",   "flipping",      "flippin",
          "frackin",      "fracking",   "fricking",     "frickin",       "frigging",
          "friggin",      "fully",      "fuckin",       "fucking",       "fuggin",
          "fugging",      "greatly",    "hella",        "highly",        "hugely",
          "incredible",   "incredibly", "intensely",    "major",         "majorly",
          "more",         "most",       "particularly", "purely",        "quite",
          "really",       "remarkably", "so",           "substantially", "thoroughly",
          "total",        "totally",    "tremendous",   "tremendously",  "uber",
          "unbelievably", "unusually",  "utter",        "utterly",       "very"}) {
      (*m)[w] = kBIncr;
    }
    for (const char* w :
         {"almost",     "barely",       "hardly",  "just enough", "kind of",  "kinda",
          "kindof",     "kind-of",      "less",    "little",      "marginal", "marginally",
          "occasional", "occasionally", "partly",  "scarce",      "scarcely", "slight",
          "slightly",   "somewhat",     "sort of", "sorta",       "sortof",   "sort-of"}) {
      (*m)[w] = kBDecr;
    }
    return m;
  }();
  return *k;
}

const std::unordered_map<std::string, double>& SpecialCases() {
  static const auto* k = new std::unordered_map<std::string, double>{
      {"the shit", 3},        {"the bomb", 3},       {"bad ass", 1.5},        {"badass", 1.5},
      {"bus stop", 0.0},      {"yeah right", -2},    {"kiss of death", -1.5}, {"to die for", 3},
      {"beating heart", 3.1}, {"broken heart", -2.9}};
  return *k;
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

// Python's str.isupper() restricted to ASCII letters: some cased letter, none lower-case.
bool IsUpper(std::string_view s) {
  bool cased = false;
  for (char c : s) {
    if (c >= 'a' && c <= 'z') return false;
    if (c >= 'A' && c <= 'Z') cased = true;
  }
  return cased;
}

bool IsPunct(char c) {
  return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
         (c >= 123 && c <= 126);
}

// Python's str.split(): runs of ASCII whitespace separate fields.
std::vector<std::string_view> SplitSpace(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (i < s.size()) {
    while (i < s.size() && space(s[i])) ++i;
    size_t j = i;
    while (j < s.size() && !space(s[j])) ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool Negated(const std::string& lower_word) {
  return VaderNegate().count(lower_word) > 0 || lower_word.find("n't") != std::string::npos;
}

double Normalize(double score) {
  const double n = score / std::sqrt(score * score + 15.0);
  return std::clamp(n, -1.0, 1.0);
}

absl::Status ReadLines(const std::string& path, std::vector<std::string>* lines) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read lexicon ", path));
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines->push_back(line);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Vader>> Vader::Load(const std::string& dir) {
  auto v = std::unique_ptr<Vader>(new Vader);
  std::vector<std::string> lines;
  if (auto s = ReadLines(dir + "/vader_lexicon.txt", &lines); !s.ok()) return s;
  for (const auto& line : lines) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() < 2) continue;
    try {
      v->lexicon_[f[0]] = std::stod(f[1]);
    } catch (const std::exception&) {
      return absl::InvalidArgumentError(absl::StrCat("bad VADER lexicon line: ", line));
    }
  }
  lines.clear();
  if (auto s = ReadLines(dir + "/emoji_utf8_lexicon.txt", &lines); !s.ok()) return s;
  for (const auto& line : lines) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() >= 2) v->emoji_[f[0]] = f[1];
  }
  if (v->lexicon_.size() < 1000) return absl::InvalidArgumentError("VADER lexicon too small");
  return v;
}

double Vader::Valence(std::string_view token) const {
  auto it = lexicon_.find(std::string(token));
  return it == lexicon_.end() ? 0.0 : it->second;
}

double Vader::SentimentValence(double valence, const std::vector<std::string>& words, size_t i,
                               bool is_cap_diff) const {
  std::vector<std::string> lower(words.size());
  for (size_t k = 0; k < words.size(); ++k) lower[k] = LowerAscii(words[k]);
  const std::string& item = words[i];
  const std::string& item_lower = lower[i];
  if (!InLexicon(item_lower)) return valence;
  valence = lexicon_.at(item_lower);
  if (item_lower == "no" && i != words.size() - 1 && InLexicon(lower[i + 1])) valence = 0.0;
  if ((i > 0 && lower[i - 1] == "no") || (i > 1 && lower[i - 2] == "no") ||
      (i > 2 && lower[i - 3] == "no" && (lower[i - 1] == "or" || lower[i - 1] == "nor"))) {
    valence = lexicon_.at(item_lower) * kNScalar;
  }
  if (IsUpper(item) && is_cap_diff) valence += valence > 0 ? kCIncr : -kCIncr;
  for (size_t start_i = 0; start_i < 3; ++start_i) {
    if (!(i > start_i && !InLexicon(lower[i - (start_i + 1)]))) continue;
    // scalar_inc_dec
    const std::string& w = words[i - (start_i + 1)];
    double s = 0.0;
    if (auto it = Boosters().find(lower[i - (start_i + 1)]); it != Boosters().end()) {
      s = it->second;
      if (valence < 0) s *= -1;
      if (IsUpper(w) && is_cap_diff) s += valence > 0 ? kCIncr : -kCIncr;
    }
    if (start_i == 1 && s != 0) s *= 0.95;
    if (start_i == 2 && s != 0) s *= 0.9;
    valence += s;
    // _negation_check
    if (start_i == 0) {
      if (Negated(lower[i - 1])) valence *= kNScalar;
    } else if (start_i == 1) {
      if (lower[i - 2] == "never" && (lower[i - 1] == "so" || lower[i - 1] == "this")) {
        valence *= 1.25;
      } else if (lower[i - 2] == "without" && lower[i - 1] == "doubt") {
      } else if (Negated(lower[i - 2])) {
        valence *= kNScalar;
      }
    } else {
      // Operator precedence as in the reference: (never and so/this at i-2) or (so/this at i-1).
      if ((lower[i - 3] == "never" && (lower[i - 2] == "so" || lower[i - 2] == "this")) ||
          (lower[i - 1] == "so" || lower[i - 1] == "this")) {
        valence *= 1.25;
      } else if (lower[i - 3] == "without" &&
                 (lower[i - 2] == "doubt" || lower[i - 1] == "doubt")) {
      } else if (Negated(lower[i - 3])) {
        valence *= kNScalar;
      }
      // _special_idioms_check
      const std::string onezero = lower[i - 1] + " " + lower[i];
      const std::string twoonezero = lower[i - 2] + " " + lower[i - 1] + " " + lower[i];
      const std::string twoone = lower[i - 2] + " " + lower[i - 1];
      const std::string threetwoone = lower[i - 3] + " " + lower[i - 2] + " " + lower[i - 1];
      const std::string threetwo = lower[i - 3] + " " + lower[i - 2];
      for (const std::string* seq : {&onezero, &twoonezero, &twoone, &threetwoone, &threetwo}) {
        if (auto it = SpecialCases().find(*seq); it != SpecialCases().end()) {
          valence = it->second;
          break;
        }
      }
      if (words.size() - 1 > i) {
        if (auto it = SpecialCases().find(lower[i] + " " + lower[i + 1]);
            it != SpecialCases().end()) {
          valence = it->second;
        }
      }
      if (words.size() - 1 > i + 1) {
        if (auto it = SpecialCases().find(lower[i] + " " + lower[i + 1] + " " + lower[i + 2]);
            it != SpecialCases().end()) {
          valence = it->second;
        }
      }
      for (const std::string* seq : {&threetwoone, &threetwo, &twoone}) {
        if (auto it = Boosters().find(*seq); it != Boosters().end()) valence += it->second;
      }
    }
  }
  // _least_check
  if (i > 1 && !InLexicon(lower[i - 1]) && lower[i - 1] == "least") {
    if (lower[i - 2] != "at" && lower[i - 2] != "very") valence *= kNScalar;
  } else if (i > 0 && !InLexicon(lower[i - 1]) && lower[i - 1] == "least") {
    valence *= kNScalar;
  }
  return valence;
}

VaderScores Vader::PolarityScores(std::string_view raw) const {
  // Emoji -> description, code point by code point.
  std::string text;
  bool prev_space = true;
  for (size_t i = 0; i < raw.size();) {
    const auto b = static_cast<unsigned char>(raw[i]);
    size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 1;
    len = std::min(len, raw.size() - i);
    if (b < 0x80) {  // no emoji is a single ASCII character
      text += raw[i];
      prev_space = raw[i] == ' ';
      ++i;
      continue;
    }
    const std::string ch(raw.substr(i, len));
    if (auto it = emoji_.find(ch); it != emoji_.end()) {
      if (!prev_space) text += ' ';
      text += it->second;
      prev_space = false;
    } else {
      text += ch;
      prev_space = false;
    }
    i += len;
  }
  // SentiText: whitespace split, strip surrounding punctuation unless that leaves <= 2 chars.
  std::vector<std::string> words;
  for (std::string_view w : SplitSpace(text)) {
    size_t b = 0;
    size_t e = w.size();
    while (b < e && IsPunct(w[b])) ++b;
    while (e > b && IsPunct(w[e - 1])) --e;
    if (e - b <= 2) {
      words.emplace_back(w);
    } else {
      words.emplace_back(w.substr(b, e - b));
    }
  }
  int caps = 0;
  for (const auto& w : words) caps += IsUpper(w) ? 1 : 0;
  const int diff = static_cast<int>(words.size()) - caps;
  const bool is_cap_diff = diff > 0 && diff < static_cast<int>(words.size());

  std::vector<double> sentiments;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string lower = LowerAscii(words[i]);
    if (Boosters().count(lower) > 0) {
      sentiments.push_back(0);
      continue;
    }
    if (i < words.size() - 1 && lower == "kind" && LowerAscii(words[i + 1]) == "of") {
      sentiments.push_back(0);
      continue;
    }
    sentiments.push_back(SentimentValence(0.0, words, i, is_cap_diff));
  }
  // _but_check: the clause after the first "but" weighs 1.5, the one before 0.5.
  for (size_t bi = 0; bi < words.size(); ++bi) {
    if (LowerAscii(words[bi]) != "but") continue;
    for (size_t si = 0; si < sentiments.size(); ++si) {
      if (si < bi) sentiments[si] *= 0.5;
      if (si > bi) sentiments[si] *= 1.5;
    }
    break;
  }
  VaderScores out;
  if (sentiments.empty()) return out;
  double sum_s = 0;
  for (double s : sentiments) sum_s += s;
  const double ep = std::min<double>(std::count(text.begin(), text.end(), '!'), 4) * 0.292;
  const auto qm_count = std::count(text.begin(), text.end(), '?');
  const double qm = qm_count > 1 ? (qm_count <= 3 ? qm_count * 0.18 : 0.96) : 0.0;
  const double punct = ep + qm;
  if (sum_s > 0) sum_s += punct;
  if (sum_s < 0) sum_s -= punct;
  out.compound = Normalize(sum_s);
  double pos_sum = 0, neg_sum = 0, neu_count = 0;
  for (double s : sentiments) {
    if (s > 0) pos_sum += s + 1;
    if (s < 0) neg_sum += s - 1;
    if (s == 0) neu_count += 1;
  }
  if (pos_sum > std::fabs(neg_sum)) {
    pos_sum += punct;
  } else if (pos_sum < std::fabs(neg_sum)) {
    neg_sum -= punct;
  }
  const double total = pos_sum + std::fabs(neg_sum) + neu_count;
  out.pos = std::fabs(pos_sum / total);
  out.neg = std::fabs(neg_sum / total);
  out.neu = std::fabs(neu_count / total);
  return out;
}

absl::StatusOr<std::unique_ptr<Afinn>> Afinn::Load(const std::string& dir) {
  auto a = std::unique_ptr<Afinn>(new Afinn);
  std::vector<std::string> lines;
  if (auto s = ReadLines(dir + "/AFINN-en-165.txt", &lines); !s.ok()) return s;
  for (const auto& line : lines) {
    const size_t tab = line.rfind('\t');
    if (tab == std::string::npos) continue;
    const std::string word = line.substr(0, tab);
    double score = 0;
    try {
      score = std::stod(line.substr(tab + 1));
    } catch (const std::exception&) {
      return absl::InvalidArgumentError(absl::StrCat("bad AFINN line: ", line));
    }
    const size_t n_words = std::count(word.begin(), word.end(), ' ') + 1;
    if (n_words == 1) {
      a->words_[word] = score;
    } else {
      a->phrases_[word] = score;
      a->max_phrase_words_ = std::max(a->max_phrase_words_, n_words);
    }
  }
  lines.clear();
  if (auto s = ReadLines(dir + "/AFINN-emoticon-8.txt", &lines); !s.ok()) return s;
  for (const auto& line : lines) {
    const size_t tab = line.rfind('\t');
    if (tab == std::string::npos) continue;
    try {
      a->emoticons_[line.substr(0, tab)] = std::stod(line.substr(tab + 1));
    } catch (const std::exception&) {
      return absl::InvalidArgumentError(absl::StrCat("bad AFINN emoticon line: ", line));
    }
  }
  if (a->words_.size() < 1000) return absl::InvalidArgumentError("AFINN lexicon too small");
  return a;
}

double Afinn::Score(std::string_view text) const {
  // AFINN's find_all: lower-cased words (letters, digits, apostrophes, hyphens), longest
  // phrase match first; emoticons matched on whitespace-separated tokens.
  double score = 0;
  std::vector<std::string> words;
  for (std::string_view tok : SplitSpace(text)) {
    if (auto it = emoticons_.find(std::string(tok)); it != emoticons_.end()) {
      score += it->second;
      continue;
    }
    std::string cur;
    for (char c : tok) {
      const bool word_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             (c >= '0' && c <= '9') || c == '\'' || c == '-' ||
                             static_cast<unsigned char>(c) >= 0x80;
      if (word_char) {
        cur.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
      } else if (!cur.empty()) {
        words.push_back(cur);
        cur.clear();
      }
    }
    if (!cur.empty()) words.push_back(cur);
  }
  for (size_t i = 0; i < words.size();) {
    size_t matched = 0;
    for (size_t n = std::min(max_phrase_words_, words.size() - i); n >= 2; --n) {
      std::string phrase = words[i];
      for (size_t k = 1; k < n; ++k) phrase += " " + words[i + k];
      if (auto it = phrases_.find(phrase); it != phrases_.end()) {
        score += it->second;
        matched = n;
        break;
      }
    }
    if (matched == 0) {
      if (auto it = words_.find(words[i]); it != words_.end()) score += it->second;
      matched = 1;
    }
    i += matched;
  }
  return score;
}

}  // namespace stratus::text
