// A small embedded HTTP/1.1 server (civetweb) for /metrics, /healthz, /readyz and the
// AWS-compatible JSON endpoints.
//
// Handlers are registered before Start() and run on civetweb's worker threads, concurrently:
// they must be thread-safe. A handler that throws gets a 500 with the exception's message.
#ifndef STRATUS_COMMON_HTTP_SERVER_H_
#define STRATUS_COMMON_HTTP_SERVER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

struct mg_context;
struct mg_connection;

namespace stratus {

struct HttpRequest {
  std::string method;
  std::string path;                            // without the query string
  std::string query;                           // after '?', undecoded
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string remote_address;

  // The header's value, or "" when absent. `name` is matched case-insensitively.
  std::string Header(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static HttpResponse Text(int status, std::string body);
  static HttpResponse Json(int status, std::string body);
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  struct Options {
    std::string address = "0.0.0.0";  // interface to listen on
    int port = 0;                     // 0: pick a free port (see port())
    int threads = 4;                  // worker threads
    size_t max_body_bytes = 8 << 20;  // larger bodies get 413 before a handler runs
  };

  static absl::StatusOr<std::unique_ptr<HttpServer>> Create(const Options& options);
  ~HttpServer();

  // Routes an exact path (any method) to a handler. Call before Start().
  void Handle(const std::string& path, HttpHandler handler);

  // Starts listening; fails with UNAVAILABLE naming the address when the port is taken.
  absl::Status Start();
  void Stop();
  int port() const { return port_; }

 private:
  explicit HttpServer(const Options& options) : options_(options) {}
  static int Dispatch(mg_connection* conn, void* self);

  Options options_;
  mg_context* ctx_ = nullptr;
  int port_ = 0;
  std::map<std::string, HttpHandler> handlers_;
};

}  // namespace stratus

#endif  // STRATUS_COMMON_HTTP_SERVER_H_
