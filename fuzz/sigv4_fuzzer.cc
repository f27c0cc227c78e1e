// SigV4's string handling (common/aws/sigv4.h) and Base64 (json_protocol.h) on arbitrary text:
// URI decoding and canonical forms, header values, X-Amz-Date. Checks: no crash or undefined
// behaviour; encode/decode round trips.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>
#include <string>

#include "common/aws/json_protocol.h"
#include "common/aws/sigv4.h"
#include "common/percent_decode.h"

namespace aws = stratus::aws;
using stratus::PercentDecode;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider p(data, size);
  const std::string a = p.ConsumeRandomLengthString(512);
  const std::string b = p.ConsumeRemainingBytesAsString();
  if (PercentDecode(aws::UriEncode(a, false)) != a) abort();
  if (PercentDecode(aws::UriEncode(a, true)) != a) abort();
  (void)PercentDecode(b);
  (void)aws::CanonicalUri(a);
  (void)aws::CanonicalQueryString(b);
  (void)aws::CanonicalHeaderValue(b);
  absl::Time t;
  if (aws::ParseAmzDate(a, &t)) (void)aws::FormatAmzDate(t);
  auto decoded = aws::Base64Decode(aws::Base64Encode(b));
  if (!decoded.ok() || *decoded != b) abort();
  (void)aws::Base64Decode(a);
  (void)aws::ConstantTimeEquals(a, b);
  return 0;
}
