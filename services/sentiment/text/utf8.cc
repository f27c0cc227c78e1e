#include "services/sentiment/text/utf8.h"

namespace stratus::text {
namespace {

// Length and value of the well-formed sequence at p (0 when there is none).
int DecodeOne(const unsigned char* p, const unsigned char* end, char32_t* cp) {
  const unsigned char c = *p;
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  int n;
  char32_t v;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 1, v = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 2, v = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 3, v = c & 0x07;
  } else {
    return 0;
  }
  if (end - p <= n) return 0;
  for (int i = 1; i <= n; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    v = (v << 6) | (p[i] & 0x3F);
  }
  if ((n == 2 && v < 0x800) || (n == 3 && (v < 0x10000 || v > 0x10FFFF)) ||
      (v >= 0xD800 && v <= 0xDFFF)) {
    return 0;
  }
  *cp = v;
  return n + 1;
}

}  // namespace

std::vector<CodePoint> DecodeUtf8(std::string_view text) {
  std::vector<CodePoint> out;
  out.reserve(text.size());
  const auto* begin = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = begin + text.size();
  for (const unsigned char* p = begin; p < end;) {
    char32_t cp;
    int n = DecodeOne(p, end, &cp);
    if (n == 0) cp = 0xFFFD, n = 1;
    out.push_back({cp, static_cast<size_t>(p - begin), n});
    p += n;
  }
  return out;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

CodePointOffsets::CodePointOffsets(std::string_view text) : index_(text.size() + 1, 0) {
  int32_t count = 0;
  size_t next = 0;
  for (const CodePoint& cp : DecodeUtf8(text)) {
    for (; next <= cp.byte_offset; ++next) index_[next] = count;
    ++count;
  }
  for (; next <= text.size(); ++next) index_[next] = count;
}

int32_t CodePointOffsets::At(size_t byte_offset) const {
  return byte_offset < index_.size() ? index_[byte_offset] : index_.back();
}

}  // namespace stratus::text
