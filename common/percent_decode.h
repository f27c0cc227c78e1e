// %XX decoding of URL paths and query components, shared by the HTTP server and SigV4.
#ifndef STRATUS_COMMON_PERCENT_DECODE_H_
#define STRATUS_COMMON_PERCENT_DECODE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace stratus {

// Decodes %XX escapes (either hex case). A malformed escape ("%zz", a "%4" at the end) is kept
// literally, and '+' stays '+' (it means a space only in HTML forms, which nothing here reads).
std::string PercentDecode(absl::string_view s);

}  // namespace stratus

#endif  // STRATUS_COMMON_PERCENT_DECODE_H_
