#include "services/sentiment/text/key_phrases.h"

#include <unicode/uchar.h>

#include <algorithm>
#include <string>
#include <unordered_map>

#include "absl/strings/str_split.h"
#include "services/sentiment/text/utf8.h"

namespace stratus::text {
namespace {

enum Tag {
  kDet,
  kPoss,
  kPron,
  kSubjectPron,
  kPrep,
  kConj,
  kAux,
  kModal,
  kVerb,
  kAdv,
  kAdj,
  kNum,
  kNoun,
  kProper,
  kOf
};

struct Token {
  size_t begin;  // bytes
  size_t end;
  std::string lower;
  Tag tag = kNoun;
  bool guessed = false;  // tagged by suffix or default, not by the lexicon
};

const std::unordered_map<std::string, Tag>& Lexicon() {
  static const auto* lexicon = [] {
    auto* m = new std::unordered_map<std::string, Tag>;
    auto add = [&](absl::string_view words, Tag tag) {
      for (absl::string_view w : absl::StrSplit(words, ' ', absl::SkipEmpty())) {
        m->emplace(std::string(w), tag);
      }
    };
    add("a an the this that these those some any each every no another such what which whose "
        "all both either neither few many much several",
        kDet);
    add("my your his her its our their", kPoss);
    add("i you he she we they", kSubjectPron);
    add("it me him us them myself yourself himself herself itself ourselves themselves mine "
        "yours hers ours theirs who whom someone anyone everyone everybody somebody nobody "
        "something anything everything nothing there here",
        kPron);
    add("in on at by for with about against between into through during before after above "
        "below to from up down out off over under than via per without within along across "
        "behind beyond near since until upon toward towards among around like as",
        kPrep);
    m->emplace("of", kOf);
    add("and or but nor so yet because although though while if unless whereas whether when "
        "where why how then",
        kConj);
    add("am is are was were be been being have has had having not n't 's 're 've 'd 'll "
        "isn't aren't wasn't weren't haven't hasn't hadn't don't doesn't didn't won't "
        "i'm you're we're they're it's that's i've i'll",
        kAux);
    add("do does did will would shall should can could may might must cannot can't couldn't "
        "wouldn't shouldn't",
        kModal);
    add("get gets got gotten getting go goes went gone going make makes made making take takes "
        "took taken taking see sees saw seen know knows knew known think thinks thought come "
        "comes came give gives gave given find finds found tell tells told say says said buy "
        "buys bought pay pays paid keep keeps kept let lets put puts mean means meant become "
        "becomes became bring brings brought write wrote written sit sat stand stood lose lost "
        "meet met leave left feel felt run ran begin began begun send sent build built spend "
        "spent sell sold hold held win won eat ate eaten fall fell drive drove driven speak "
        "spoke spoken break broke broken choose chose chosen wear wore grow grew grown show "
        "shown seem seems seemed want wants wanted need needs needed love loves loved hate "
        "hates hated like liked likes use used uses try tries tried ask asks asked call called "
        "calls work worked works look looks looked help helps helped start started starts "
        "happen happened arrive arrived arrives enjoy enjoyed recommend recommended "
        "please",
        kVerb);
    add("very really quite too also just only even still already always never often sometimes "
        "usually soon now again almost rather maybe perhaps however ever yet instead "
        "together away back",
        kAdv);
    add("good bad great best better worst worse new old big small large little long short high "
        "low first last next other same different right wrong own important happy sad nice "
        "awful terrible amazing excellent poor fast slow early late easy hard free full real "
        "sure true whole able young hot cold cheap expensive beautiful ugly huge tiny main "
        "major certain clear local public private red blue green black white yellow brown "
        "open ready fine okay ok",
        kAdj);
    add("one two three four five six seven eight nine ten eleven twelve twenty thirty hundred "
        "thousand million billion",
        kNum);
    return m;
  }();
  return *lexicon;
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() > suffix.size() + 2 &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool WordChar(char32_t cp) { return u_isalnum(static_cast<UChar32>(cp)); }
bool Joiner(char32_t cp) { return cp == '\'' || cp == U'\u2019' || cp == '-' || cp == '.'; }

// Words and breaks (punctuation), in order; a break is a Token with begin == end.
std::vector<Token> Tokenize(std::string_view text) {
  std::vector<CodePoint> cps = DecodeUtf8(text);
  std::vector<Token> tokens;
  for (size_t i = 0; i < cps.size();) {
    if (!WordChar(cps[i].value)) {
      if (!u_isspace(static_cast<UChar32>(cps[i].value)) &&
          (tokens.empty() || tokens.back().begin != tokens.back().end)) {
        tokens.push_back({cps[i].byte_offset, cps[i].byte_offset, "", kConj});
      }
      ++i;
      continue;
    }
    size_t j = i;
    std::string lower;
    while (j < cps.size() &&
           (WordChar(cps[j].value) ||
            (Joiner(cps[j].value) && j + 1 < cps.size() && WordChar(cps[j + 1].value)))) {
      AppendUtf8(cps[j].value == U'\u2019' ? U'\'' : static_cast<char32_t>(u_tolower(cps[j].value)),
                 &lower);
      ++j;
    }
    const size_t end = cps[j - 1].byte_offset + cps[j - 1].byte_length;
    tokens.push_back({cps[i].byte_offset, end, std::move(lower)});
    tokens.back().tag = u_isupper(static_cast<UChar32>(cps[i].value)) ? kProper : kNoun;
    i = j;
  }
  return tokens;
}

void TagWords(std::vector<Token>* tokens) {
  const auto& lexicon = Lexicon();
  for (size_t i = 0; i < tokens->size(); ++i) {
    Token& t = (*tokens)[i];
    if (t.begin == t.end) continue;
    const bool sentence_start = i == 0 || (*tokens)[i - 1].begin == (*tokens)[i - 1].end;
    const Tag prev = i == 0 ? kConj : (*tokens)[i - 1].tag;
    if (auto it = lexicon.find(t.lower); it != lexicon.end()) {
      t.tag = it->second;
      continue;
    }
    t.guessed = true;
    if (std::all_of(t.lower.begin(), t.lower.end(),
                    [](char c) { return (c >= '0' && c <= '9') || c == '.' || c == '-'; })) {
      t.tag = kNum;
    } else if (t.tag == kProper && !sentence_start) {
      // a capitalised word inside a sentence
    } else if (EndsWith(t.lower, "ly")) {
      t.tag = kAdv;
    } else if (EndsWith(t.lower, "ous") || EndsWith(t.lower, "ful") || EndsWith(t.lower, "ive") ||
               EndsWith(t.lower, "able") || EndsWith(t.lower, "ible") ||
               EndsWith(t.lower, "less") || EndsWith(t.lower, "ical") || EndsWith(t.lower, "ish") ||
               EndsWith(t.lower, "ic") || EndsWith(t.lower, "al")) {
      t.tag = kAdj;
    } else if (EndsWith(t.lower, "ed")) {
      t.tag = prev == kDet || prev == kPoss ? kAdj : kVerb;  // "the used car"; "we walked"
    } else if ((prev == kSubjectPron || prev == kModal || prev == kAux) &&
               (EndsWith(t.lower, "ed") || EndsWith(t.lower, "ing") || EndsWith(t.lower, "s") ||
                prev != kAux)) {
      t.tag = kVerb;
    } else if (EndsWith(t.lower, "ing") && prev != kDet && prev != kPoss && prev != kAdj) {
      t.tag = kVerb;
    } else {
      t.tag = kNoun;
    }
  }
}

bool IsNoun(Tag t) { return t == kNoun || t == kProper; }

// The noun phrase starting at tokens[i]: its end (exclusive, at the last noun), or i if none.
size_t NounPhrase(const std::vector<Token>& tokens, size_t i) {
  size_t j = i;
  while (j < tokens.size() && (tokens[j].tag == kDet || tokens[j].tag == kPoss)) ++j;
  while (j < tokens.size() &&
         (tokens[j].tag == kAdj || tokens[j].tag == kNum || tokens[j].tag == kAdv))
    ++j;
  size_t end = i;
  while (j < tokens.size() && (IsNoun(tokens[j].tag) || tokens[j].tag == kNum)) {
    ++j;
    if (IsNoun(tokens[j - 1].tag) || end > i) end = j;
  }
  // A number alone ("3 items" has a noun; "in 2024" does not) still names something.
  if (end == i && j > i && tokens[j - 1].tag == kNum) end = j;
  return end;
}

}  // namespace

absl::StatusOr<std::unique_ptr<KeyPhraseExtractor>> KeyPhraseExtractor::Create(
    const Options& options) {
  if (options.max_words < 1) return absl::InvalidArgumentError("max_words must be positive");
  return std::unique_ptr<KeyPhraseExtractor>(new KeyPhraseExtractor(options));
}

std::vector<KeyPhrase> KeyPhraseExtractor::Extract(std::string_view text) const {
  std::vector<Token> tokens = Tokenize(text);
  TagWords(&tokens);
  const CodePointOffsets offsets(text);
  std::vector<KeyPhrase> out;
  for (size_t i = 0; i < tokens.size();) {
    const Tag t = tokens[i].tag;
    if (tokens[i].begin == tokens[i].end ||
        !(t == kDet || t == kPoss || t == kAdj || t == kNum || IsNoun(t))) {
      ++i;
      continue;
    }
    size_t end = NounPhrase(tokens, i);
    if (end == i) {
      ++i;
      continue;
    }
    // "the bank of America": two phrases joined by "of".
    while (end + 1 < tokens.size() && tokens[end].tag == kOf) {
      const size_t more = NounPhrase(tokens, end + 1);
      if (more == end + 1) break;
      end = more;
    }
    size_t begin = i;
    if (end - begin > static_cast<size_t>(options_.max_words)) begin = end - options_.max_words;
    int guessed = 0;
    for (size_t k = begin; k < end; ++k) guessed += tokens[k].guessed;
    KeyPhrase p;
    p.text =
        std::string(text.substr(tokens[begin].begin, tokens[end - 1].end - tokens[begin].begin));
    p.begin_offset = offsets.At(tokens[begin].begin);
    p.end_offset = offsets.At(tokens[end - 1].end);
    p.score = std::max(0.5f, 1.0f - 0.1f * guessed);
    out.push_back(std::move(p));
    i = end;
  }
  return out;
}

}  // namespace stratus::text
