// A tokenizer for short social-media texts (tweets, reviews, comments), torch-free so that the
// sentiment service links it at inference exactly as the trainer used it.
//
//   - URLs become `<url>`, @mentions `<user>`, numbers `<number>`.
//   - Hashtags become a `<hashtag>` marker followed by their words: CamelCase, digits and `_`
//     split them; an all-lowercase hashtag is segmented with the optional dictionary.
//   - Emoji are kept as tokens (skin-tone modifiers, variation selectors and joiners dropped, a
//     run of one emoji collapsed to one token marked elongated); flags stay one token.
//   - Emoticons (`:)`, `:-(`, `<3`, `:'(`, `XD`, `^_^`...) are kept as tokens, nose removed.
//   - Words are lower-cased; a word of two or more letters written in capitals is marked
//     `all_caps`; letters repeated three times or more are cut to two (or one, when that is a
//     dictionary word and two is not) and the word is marked `elongated`.
//   - Contractions split as the Penn Treebank does ("don't" -> "do" "n't", "it's" -> "it" "'s"),
//     so pre-tokenised corpora (SST) and raw tweets give the same tokens.
//   - `!`, `?`, `.`, `,`, `;`, `:` and `...` are kept (a run of one mark is one token marked
//     elongated); other symbols are dropped. HTML entities (&amp; &lt; &gt; &quot; &#39;) are
//     decoded first. Invalid UTF-8 bytes are skipped.
//
// Thread safety: Tokenize is a pure function; the dictionary is only read.
#ifndef STRATUS_RUNTIME_TEXT_TOKENIZER_H_
#define STRATUS_RUNTIME_TEXT_TOKENIZER_H_

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace stratus::text {

enum class TokenKind { kWord, kNumber, kUrl, kMention, kHashtag, kEmoji, kEmoticon, kPunct };

struct Token {
  std::string text;  // normalised form (what models and lexicons see)
  TokenKind kind = TokenKind::kWord;
  bool all_caps = false;    // written in capitals (words of 2+ letters)
  bool elongated = false;   // a letter, mark or emoji repeated 3+ times (2+ for marks/emoji)
  bool in_hashtag = false;  // a word that came out of a hashtag
};

struct TokenizerOptions {
  // Known words, used to split all-lowercase hashtags and to pick between the one- and
  // two-letter forms of an elongation. Not owned; may be null.
  const std::unordered_set<std::string>* dictionary = nullptr;
  // Split hashtags into words (default true); false keeps "#word" as one word token.
  bool split_hashtags = true;
};

std::vector<Token> Tokenize(std::string_view text, const TokenizerOptions& options = {});

// The token texts only, for tests and logs.
std::vector<std::string> TokenTexts(const std::vector<Token>& tokens);

// True when `word` is a negator ("not", "n't", "never", "no", "cannot", "dont"...).
bool IsNegator(std::string_view word);

}  // namespace stratus::text

#endif  // STRATUS_RUNTIME_TEXT_TOKENIZER_H_
