// A minimal blocking HTTP/1.1 client for http:// and https://: the CLI reading /metrics and
// /readyz, tests talking to the services' HTTP endpoints, the AWS JSON client, and load
// generators (HttpConnection, keep-alive). No redirects, no chunked request bodies.
// https:// verifies the server's certificate for the URL's host (name or IP address) against
// a CA file: HttpFetchOptions::ca_file, else $STRATUS_TLS_CA, else the system's roots; a
// failed verification is UNAVAILABLE saying why (e.g. "certificate verify failed").
// Thread-compatible (the only shared state, the TLS contexts per CA file, is locked).
#ifndef STRATUS_COMMON_HTTP_CLIENT_H_
#define STRATUS_COMMON_HTTP_CLIENT_H_

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace stratus {

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct HttpFetchOptions {
  std::chrono::milliseconds timeout{30000};
  std::string ca_file;  // for https://: the CA to trust ("": $STRATUS_TLS_CA or system roots)
};

// `url` is http(s)://host:port/path?query. UNAVAILABLE when the server cannot be reached (or
// its certificate is not trusted), DEADLINE_EXCEEDED on timeout.
absl::StatusOr<HttpResult> HttpFetch(const std::string& method, const std::string& url,
                                     const std::map<std::string, std::string>& headers = {},
                                     const std::string& body = "",
                                     std::chrono::milliseconds timeout = std::chrono::seconds(30));
absl::StatusOr<HttpResult> HttpFetch(const std::string& method, const std::string& url,
                                     const std::map<std::string, std::string>& headers,
                                     const std::string& body, const HttpFetchOptions& options);

struct HttpClientStream;

// One persistent (keep-alive) HTTP/1.1 connection to a host:port, as the AWS SDKs keep them:
// requests are sent one after the other on the same TCP connection (TCP_NODELAY set). When the
// server answers "Connection: close" or the connection fails, the next Send() connects anew;
// a failed request is not retried. Not thread-safe: one connection per thread.
class HttpConnection {
 public:
  // `host_port` is "host:port" (plain HTTP) or "https://host:port" (TLS trusting `ca_file`, as
  // HttpFetch does). UNAVAILABLE when it cannot be reached.
  static absl::StatusOr<std::unique_ptr<HttpConnection>> Connect(
      const std::string& host_port, std::chrono::milliseconds timeout = std::chrono::seconds(30),
      const std::string& ca_file = "");
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends `method path` with `headers` (Host and Content-Length are added) and `body`; returns
  // the response once its body (Content-Length or chunked) is complete. UNAVAILABLE on a
  // connection failure, DEADLINE_EXCEEDED when `timeout` passes.
  absl::StatusOr<HttpResult> Send(const std::string& method, const std::string& path,
                                  const std::map<std::string, std::string>& headers,
                                  const std::string& body,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(30));

  const std::string& host_port() const { return host_port_; }  // without https://
  // TCP connections opened so far (1 while the server keeps the connection alive).
  int connects() const { return connects_; }

 private:
  explicit HttpConnection(std::string host_port);
  absl::Status Open(std::chrono::steady_clock::time_point deadline);
  void Close();

  std::string host_port_;
  bool https_ = false;
  std::string ca_file_;
  std::unique_ptr<HttpClientStream> stream_;  // null while not connected
  int connects_ = 0;
  std::string buffer_;  // bytes received past the last response
};

}  // namespace stratus

#endif  // STRATUS_COMMON_HTTP_CLIENT_H_
