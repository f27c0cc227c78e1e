#include "runtime/text/tokenizer.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace stratus::text {
namespace {

// Decodes one UTF-8 code point at s[i]; returns its length (0 for an invalid byte).
size_t DecodeUtf8(std::string_view s, size_t i, char32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len = 0;
  char32_t v = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    v = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    v = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    v = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b & 0x3F);
  }
  // Overlong forms and surrogates are invalid.
  if ((len == 2 && v < 0x80) || (len == 3 && v < 0x800) || (len == 4 && v < 0x10000) ||
      (v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF) {
    return 0;
  }
  *cp = v;
  return len;
}

bool IsEmoji(char32_t c) {
  return (c >= 0x1F000 && c <= 0x1FAFF) || (c >= 0x2600 && c <= 0x27BF) ||
         (c >= 0x2300 && c <= 0x23FF) || (c >= 0x2B00 && c <= 0x2BFF) || c == 0x3030 ||
         c == 0x303D || c == 0x3297 || c == 0x3299 || c == 0x2122 || c == 0x2139 ||
         (c >= 0x2194 && c <= 0x21AA);
}
bool IsEmojiModifier(char32_t c) {
  return (c >= 0x1F3FB && c <= 0x1F3FF) || c == 0xFE0F || c == 0xFE0E || c == 0x200D ||
         c == 0x20E3 || (c >= 0xE0020 && c <= 0xE007F);
}
bool IsRegionalIndicator(char32_t c) { return c >= 0x1F1E6 && c <= 0x1F1FF; }
bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSpaceCp(char32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == 0xA0 ||
         (c >= 0x2000 && c <= 0x200B) || c == 0x3000 || c == 0x202F;
}
// Letters outside ASCII: Latin-1 letters and everything from U+0100 up that is not an emoji,
// a space, general punctuation (U+2010..U+206F) or a symbol block handled elsewhere.
bool IsWordCp(char32_t c) {
  if (c < 0x80) return IsAsciiAlpha(static_cast<char>(c)) || IsAsciiDigit(static_cast<char>(c));
  if (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) return true;
  if (c < 0x250) return false;
  if (IsEmoji(c) || IsEmojiModifier(c) || IsRegionalIndicator(c) || IsSpaceCp(c)) return false;
  if (c >= 0x2010 && c <= 0x206F) return false;
  if (c >= 0x20A0 && c <= 0x2BFF) return false;  // currency, arrows, math, boxes
  if (c >= 0x3000 && c <= 0x303F) return false;  // CJK punctuation
  return true;
}

char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ToLowerAscii(c);
  return out;
}

bool StartsWithNoCase(std::string_view s, size_t i, std::string_view prefix) {
  if (s.size() - i < prefix.size()) return false;
  for (size_t k = 0; k < prefix.size(); ++k) {
    if (ToLowerAscii(s[i + k]) != prefix[k]) return false;
  }
  return true;
}

std::string DecodeEntities(std::string_view in) {
  static constexpr std::array<std::pair<std::string_view, char>, 6> kEntities = {
      {{"&amp;", '&'},
       {"&lt;", '<'},
       {"&gt;", '>'},
       {"&quot;", '"'},
       {"&#39;", '\''},
       {"&apos;", '\''}}};
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size();) {
    bool done = false;
    if (in[i] == '&') {
      for (const auto& [name, ch] : kEntities) {
        if (in.substr(i, name.size()) == name) {
          out.push_back(ch);
          i += name.size();
          done = true;
          break;
        }
      }
    }
    if (!done) out.push_back(in[i++]);
  }
  return out;
}

// Emoticons as written (after removing a '-' or '^' nose), longest first when matched.
constexpr std::array<std::string_view, 44> kEmoticons = {
    ":)", ":(",  ":D",  ";)", ":P",  ":p",  ":'(", ":')", ":/",  ":\\", ":|",
    ":o", ":O",  ":*",  ";D", ";P",  ";p",  "=)",  "=(",  "=D",  ":]",  ":[",
    "<3", "</3", "XD",  "xD", "XP",  ":S",  ":s",  ":@",  ">:(", ">:)", "D:",
    "(:", "):",  "^_^", "^^", "-_-", "T_T", ";_;", "o_O", "O_o", ":3",  "8)"};

struct EmoticonForm {
  std::string written;  // as it may appear in text (with or without a nose)
  std::string_view normal;
};

// Every written form of kEmoticons: as listed, and with a '-' nose after the eyes.
const std::vector<EmoticonForm>& EmoticonForms() {
  static const auto* k = [] {
    auto* forms = new std::vector<EmoticonForm>;
    for (std::string_view e : kEmoticons) {
      forms->push_back({std::string(e), e});
      if (e.size() < 2 || (e[0] != ':' && e[0] != ';' && e[0] != '=' && e[0] != '>')) continue;
      const size_t at = e[0] == '>' ? 2 : 1;
      if (at >= e.size()) continue;
      std::string written(e);
      written.insert(at, "-");
      forms->push_back({std::move(written), e});
    }
    return forms;
  }();
  return *k;
}

// Matches an emoticon at s[i]; returns its length in s (0 when none) and its normal form.
size_t MatchEmoticon(std::string_view s, size_t i, std::string* normal) {
  static const std::array<bool, 128> kFirst = [] {
    std::array<bool, 128> f{};
    for (std::string_view e : kEmoticons) f[static_cast<unsigned char>(e[0])] = true;
    return f;
  }();
  if (static_cast<unsigned char>(s[i]) >= 128 || !kFirst[static_cast<unsigned char>(s[i])]) {
    return 0;
  }
  // Must start at a token boundary.
  if (i > 0 && !IsSpaceCp(static_cast<unsigned char>(s[i - 1])) && s[i - 1] != '"' &&
      s[i - 1] != '(' && s[i - 1] != ',') {
    // allow "word:)" too: emoticons glued to a word are common.
    if (!IsAsciiAlpha(s[i - 1]) && !IsAsciiDigit(s[i - 1]) && s[i - 1] != '.' && s[i - 1] != '!') {
      return 0;
    }
    if (s[i] != ':' && s[i] != ';' && s[i] != '=' && s[i] != '<') return 0;
  }
  size_t best = 0;
  std::string_view best_form;
  for (const EmoticonForm& f : EmoticonForms()) {
    if (f.written.size() > best && s.substr(i, f.written.size()) == f.written) {
      best = f.written.size();
      best_form = f.normal;
    }
  }
  if (best == 0) return 0;
  // Repeated mouths ":)))" still count as one emoticon.
  size_t end = i + best;
  const char last = s[end - 1];
  if (last == ')' || last == '(' || last == 'D' || last == 'P' || last == 'p') {
    while (end < s.size() && s[end] == last) ++end;
  }
  // Must end at a boundary: not followed by a letter or digit (":pizza", "XDR").
  if (end < s.size() && (IsAsciiAlpha(s[end]) || IsAsciiDigit(s[end]))) return 0;
  // A letter-initial emoticon ("XD", "D:") must not be glued to a preceding word.
  if (IsAsciiAlpha(s[i]) && i > 0 && (IsAsciiAlpha(s[i - 1]) || IsAsciiDigit(s[i - 1]))) return 0;
  *normal = best_form == "xD" ? "XD" : std::string(best_form);
  if (*normal == ":p") *normal = ":P";
  if (*normal == ";p") *normal = ";P";
  if (*normal == ":s") *normal = ":S";
  return end - i;
}

bool InDictionary(const TokenizerOptions& o, const std::string& w) {
  return o.dictionary != nullptr && o.dictionary->count(w) > 0;
}

// Cuts runs of 3+ equal characters to `keep` characters.
std::string SqueezeRuns(const std::string& w, size_t keep, bool* changed) {
  std::string out;
  for (size_t i = 0; i < w.size();) {
    size_t j = i;
    while (j < w.size() && w[j] == w[i]) ++j;
    const size_t run = j - i;
    if (run >= 3 && static_cast<unsigned char>(w[i]) < 0x80) {
      out.append(keep, w[i]);
      *changed = true;
    } else {
      out.append(w, i, run);
    }
    i = j;
  }
  return out;
}

// Splits an all-lowercase string into dictionary words (fewest pieces); empty if impossible.
std::vector<std::string> SegmentWords(const std::string& s, const TokenizerOptions& o) {
  if (o.dictionary == nullptr || s.size() > 40) return {};
  const size_t n = s.size();
  std::vector<int> best(n + 1, std::numeric_limits<int>::max());
  std::vector<size_t> from(n + 1, 0);
  best[0] = 0;
  for (size_t j = 1; j <= n; ++j) {
    for (size_t i = (j > 20 ? j - 20 : 0); i < j; ++i) {
      if (best[i] == std::numeric_limits<int>::max()) continue;
      const std::string piece = s.substr(i, j - i);
      // Single letters other than "a"/"i" make for nonsense splits.
      if (piece.size() == 1 && piece != "a" && piece != "i") continue;
      if (!InDictionary(o, piece)) continue;
      if (best[i] + 1 < best[j]) {
        best[j] = best[i] + 1;
        from[j] = i;
      }
    }
  }
  if (best[n] == std::numeric_limits<int>::max()) return {};
  std::vector<std::string> parts;
  for (size_t j = n; j > 0; j = from[j]) parts.push_back(s.substr(from[j], j - from[j]));
  std::reverse(parts.begin(), parts.end());
  return parts;
}

class Scanner {
 public:
  Scanner(std::string_view text, const TokenizerOptions& options)
      : s_(DecodeEntities(text)), o_(options) {}

  std::vector<Token> Run() {
    size_t i = 0;
    while (i < s_.size()) {
      char32_t cp = 0;
      const size_t len = DecodeUtf8(s_, i, &cp);
      if (len == 0) {  // invalid byte
        ++i;
        continue;
      }
      if (IsSpaceCp(cp)) {
        i += len;
        continue;
      }
      if (StartsWithNoCase(s_, i, "http://") || StartsWithNoCase(s_, i, "https://") ||
          StartsWithNoCase(s_, i, "www.")) {
        i = SkipNonSpace(i);
        Push("<url>", TokenKind::kUrl);
        continue;
      }
      if (cp == '@' && i + 1 < s_.size() && IsHandleChar(s_[i + 1])) {
        ++i;
        while (i < s_.size() && IsHandleChar(s_[i])) ++i;
        Push("<user>", TokenKind::kMention);
        continue;
      }
      if (cp == '#' && i + 1 < s_.size() && (IsAsciiAlpha(s_[i + 1]) || IsAsciiDigit(s_[i + 1]))) {
        size_t j = i + 1;
        while (j < s_.size() && IsHandleChar(s_[j])) ++j;
        Hashtag(s_.substr(i + 1, j - i - 1));
        i = j;
        continue;
      }
      std::string emoticon;
      if (cp < 0x80) {
        if (const size_t n = MatchEmoticon(s_, i, &emoticon); n > 0) {
          Push(emoticon, TokenKind::kEmoticon);
          i += n;
          continue;
        }
      }
      if (IsRegionalIndicator(cp)) {
        std::string flag = s_.substr(i, len);
        i += len;
        char32_t cp2 = 0;
        if (i < s_.size()) {
          const size_t len2 = DecodeUtf8(s_, i, &cp2);
          if (len2 > 0 && IsRegionalIndicator(cp2)) {
            flag += s_.substr(i, len2);
            i += len2;
          }
        }
        Push(flag, TokenKind::kEmoji);
        continue;
      }
      if (IsEmoji(cp)) {
        std::string e = s_.substr(i, len);
        i += len;
        // Skip modifiers and joined parts (keep the base emoji of a ZWJ sequence).
        int repeats = 1;
        while (i < s_.size()) {
          char32_t next = 0;
          const size_t l2 = DecodeUtf8(s_, i, &next);
          if (l2 == 0) break;
          if (IsEmojiModifier(next)) {
            const bool zwj = next == 0x200D;
            i += l2;
            if (zwj && i < s_.size()) {  // drop the joined emoji
              char32_t joined = 0;
              const size_t l3 = DecodeUtf8(s_, i, &joined);
              if (l3 > 0 && IsEmoji(joined)) i += l3;
            }
            continue;
          }
          if (s_.compare(i, e.size(), e) == 0) {  // the same emoji again
            ++repeats;
            i += l2;
            continue;
          }
          break;
        }
        Push(e, TokenKind::kEmoji);
        tokens_.back().elongated = repeats >= 2;
        continue;
      }
      if (IsWordStart(i, cp)) {
        i = Word(i);
        continue;
      }
      if (cp == '!' || cp == '?' || cp == ',' || cp == ';' || cp == ':' || cp == '.') {
        size_t j = i;
        while (j < s_.size() && s_[j] == static_cast<char>(cp)) ++j;
        const size_t run = j - i;
        std::string mark(1, static_cast<char>(cp));
        if (cp == '.' && run >= 2) mark = "...";
        Push(mark, TokenKind::kPunct);
        tokens_.back().elongated = (cp != '.' && run >= 2);
        i = j;
        continue;
      }
      if (cp == 0x2026) {  // horizontal ellipsis
        Push("...", TokenKind::kPunct);
        i += len;
        continue;
      }
      i += len;  // other symbols are dropped
    }
    return std::move(tokens_);
  }

 private:
  static bool IsHandleChar(char c) { return IsAsciiAlpha(c) || IsAsciiDigit(c) || c == '_'; }

  size_t SkipNonSpace(size_t i) const {
    while (i < s_.size() && !IsSpaceCp(static_cast<unsigned char>(s_[i]))) ++i;
    return i;
  }

  bool IsApostrophe(size_t i, size_t* len) const {
    if (s_[i] == '\'') {
      *len = 1;
      return true;
    }
    if (s_.compare(i, 3, "\xE2\x80\x99") == 0) {  // U+2019
      *len = 3;
      return true;
    }
    return false;
  }

  bool IsWordStart(size_t i, char32_t cp) const {
    if (IsWordCp(cp)) return true;
    size_t alen = 0;
    // "'s", "'ll": an apostrophe followed by a letter starts a clitic token.
    return IsApostrophe(i, &alen) && i + alen < s_.size() && IsAsciiAlpha(s_[i + alen]);
  }

  // Reads a word (letters, digits, inner apostrophes and hyphens) from i; returns the end.
  size_t Word(size_t i) {
    std::string raw;
    size_t alen = 0;
    if (IsApostrophe(i, &alen)) {
      raw.push_back('\'');
      i += alen;
    }
    while (i < s_.size()) {
      char32_t cp = 0;
      const size_t len = DecodeUtf8(s_, i, &cp);
      if (len == 0) break;
      if (IsWordCp(cp)) {
        raw.append(s_, i, len);
        i += len;
        continue;
      }
      if ((IsApostrophe(i, &alen) || s_[i] == '-') && !raw.empty()) {
        const size_t step = s_[i] == '-' ? 1 : alen;
        if (i + step < s_.size()) {
          char32_t next = 0;
          const size_t l2 = DecodeUtf8(s_, i + step, &next);
          if (l2 > 0 && IsWordCp(next)) {
            raw.push_back(s_[i] == '-' ? '-' : '\'');
            i += step;
            continue;
          }
        }
      }
      break;
    }
    EmitWord(raw, /*in_hashtag=*/false);
    return i;
  }

  void EmitWord(const std::string& raw, bool in_hashtag) {
    // Numbers (digits with inner separators) become <number>.
    bool has_digit = false;
    bool has_alpha = false;
    int upper = 0;
    int lower = 0;
    for (char c : raw) {
      if (IsAsciiDigit(c)) has_digit = true;
      if (IsAsciiAlpha(c)) has_alpha = true;
      if (c >= 'A' && c <= 'Z') ++upper;
      if (c >= 'a' && c <= 'z') ++lower;
    }
    if (has_digit && !has_alpha) {
      Push("<number>", TokenKind::kNumber);
      tokens_.back().in_hashtag = in_hashtag;
      return;
    }
    std::string w = Lower(raw);
    // Penn Treebank contractions: "don't" -> "do" "n't"; "it's" -> "it" "'s".
    std::string clitic;
    if (w.size() > 3 && w.compare(w.size() - 3, 3, "n't") == 0) {
      clitic = "n't";
      w.resize(w.size() - 3);
    } else {
      for (std::string_view c : {"'s", "'re", "'ve", "'ll", "'d", "'m"}) {
        if (w.size() > c.size() && w.compare(w.size() - c.size(), c.size(), c) == 0) {
          clitic = std::string(c);
          w.resize(w.size() - c.size());
          break;
        }
      }
    }
    bool elongated = false;
    std::string squeezed = SqueezeRuns(w, 2, &elongated);
    if (elongated && !InDictionary(o_, squeezed)) {
      bool unused = false;
      std::string one = SqueezeRuns(w, 1, &unused);
      if (InDictionary(o_, one)) squeezed = one;
    }
    Push(squeezed, TokenKind::kWord);
    Token& t = tokens_.back();
    t.all_caps = upper >= 2 && lower == 0;
    t.elongated = elongated;
    t.in_hashtag = in_hashtag;
    if (!clitic.empty()) {
      Push(clitic, TokenKind::kWord);
      tokens_.back().all_caps = t.all_caps;
      tokens_.back().in_hashtag = in_hashtag;
    }
  }

  void Hashtag(const std::string& tag) {
    if (!o_.split_hashtags) {
      Push("#" + Lower(tag), TokenKind::kWord);
      return;
    }
    Push("<hashtag>", TokenKind::kHashtag);
    // Split at '_', at letter/digit changes and at lower->Upper (and UPPER->Upper+lower).
    std::vector<std::string> parts;
    std::string cur;
    auto flush = [&] {
      if (!cur.empty()) parts.push_back(cur);
      cur.clear();
    };
    for (size_t k = 0; k < tag.size(); ++k) {
      const char c = tag[k];
      if (c == '_') {
        flush();
        continue;
      }
      if (!cur.empty()) {
        const char p = cur.back();
        const bool boundary = (IsAsciiDigit(c) != IsAsciiDigit(p)) ||
                              (c >= 'A' && c <= 'Z' && p >= 'a' && p <= 'z') ||
                              (c >= 'A' && c <= 'Z' && p >= 'A' && p <= 'Z' && k + 1 < tag.size() &&
                               tag[k + 1] >= 'a' && tag[k + 1] <= 'z');
        if (boundary) flush();
      }
      cur.push_back(c);
    }
    flush();
    for (const std::string& part : parts) {
      const std::string lower = Lower(part);
      bool is_lower = lower == part;
      if (is_lower && part.size() > 3 && !InDictionary(o_, part)) {
        auto words = SegmentWords(part, o_);
        if (!words.empty()) {
          for (const auto& w : words) EmitWord(w, /*in_hashtag=*/true);
          continue;
        }
      }
      EmitWord(part, /*in_hashtag=*/true);
    }
  }

  void Push(std::string text, TokenKind kind) {
    Token t;
    t.text = std::move(text);
    t.kind = kind;
    tokens_.push_back(std::move(t));
  }

  std::string s_;
  const TokenizerOptions& o_;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> Tokenize(std::string_view text, const TokenizerOptions& options) {
  return Scanner(text, options).Run();
}

std::vector<std::string> TokenTexts(const std::vector<Token>& tokens) {
  std::vector<std::string> out;
  out.reserve(tokens.size());
  for (const auto& t : tokens) out.push_back(t.text);
  return out;
}

bool IsNegator(std::string_view w) {
  static const std::unordered_set<std::string_view> kNegators = {
      "not",     "n't",     "no",      "never",  "none",    "nobody",   "nothing",
      "neither", "nor",     "nowhere", "cannot", "without", "aint",     "arent",
      "cant",    "couldnt", "didnt",   "doesnt", "dont",    "hadnt",    "hasnt",
      "havent",  "isnt",    "mightnt", "mustnt", "neednt",  "shouldnt", "wasnt",
      "werent",  "wont",    "wouldnt", "nope",   "rarely",  "seldom",   "hardly"};
  return kNegators.count(w) > 0;
}

}  // namespace stratus::text
