// UTF-8 decoding for the text analysers: code points with their byte offsets, and byte offsets
// turned into code point offsets (Comprehend's BeginOffset/EndOffset count code points).
// Invalid sequences decode as U+FFFD one byte at a time, so every function accepts any bytes.
#ifndef STRATUS_SERVICES_SENTIMENT_TEXT_UTF8_H_
#define STRATUS_SERVICES_SENTIMENT_TEXT_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stratus::text {

struct CodePoint {
  char32_t value;
  size_t byte_offset;  // where its encoding starts in the text
  int byte_length;     // 1-4
};

// Every code point of `text`, in order.
std::vector<CodePoint> DecodeUtf8(std::string_view text);

// Appends the UTF-8 encoding of `cp` (U+FFFD when it is not a scalar value).
void AppendUtf8(char32_t cp, std::string* out);

// Maps byte offsets of one text to code point offsets in O(1).
class CodePointOffsets {
 public:
  explicit CodePointOffsets(std::string_view text);
  // The number of code points that start before `byte_offset` (0 <= byte_offset <= size).
  int32_t At(size_t byte_offset) const;

 private:
  std::vector<int32_t> index_;  // index_[b] = code points starting before byte b
};

}  // namespace stratus::text

#endif  // STRATUS_SERVICES_SENTIMENT_TEXT_UTF8_H_
