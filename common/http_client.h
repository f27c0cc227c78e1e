// A minimal blocking HTTP/1.1 client for plain http:// on trusted networks: the CLI reading
// /metrics and tests talking to the services' HTTP endpoints. Not for the open internet (no TLS,
// no redirects, no chunked request bodies). Thread-compatible (no shared state).
#ifndef STRATUS_COMMON_HTTP_CLIENT_H_
#define STRATUS_COMMON_HTTP_CLIENT_H_

#include <chrono>
#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace stratus {

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// `url` is http://host:port/path?query. UNAVAILABLE when the server cannot be reached,
// DEADLINE_EXCEEDED on timeout.
absl::StatusOr<HttpResult> HttpFetch(const std::string& method, const std::string& url,
                                     const std::map<std::string, std::string>& headers = {},
                                     const std::string& body = "",
                                     std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace stratus

#endif  // STRATUS_COMMON_HTTP_CLIENT_H_
