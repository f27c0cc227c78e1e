// A small embedded HTTP/1.1 server for /metrics, /healthz, /readyz and the AWS-compatible JSON
// endpoints.
//
// One thread per open connection: it reads a request, runs the handler on that same thread,
// writes the response in one send (TCP_NODELAY is set, so a keep-alive client gets it at once
// rather than after its delayed ACK), and waits for the next request on the connection. Threads
// are started as connections arrive and end when they close, so concurrency follows the clients
// up to Options::max_connections; further connections wait in the listen backlog until one
// closes. Handlers run with Options::stack_bytes of stack (image decoding, inference).
//
// Protocol: HTTP/1.0 and 1.1, keep-alive (1.1's default; "Connection: close" honoured both
// ways), pipelined requests, Content-Length and chunked request bodies, "Expect: 100-continue".
// Routing: an exact path registered with Handle() wins; otherwise the longest prefix registered
// with HandlePrefix() that the path starts with.
// Answers of the server itself: 400 for a malformed request, 404 for an unregistered path, 413
// for a body over max_body_bytes (before a handler runs; the connection is then closed), 431 for
// headers over max_header_bytes, 500 with the exception's message when a handler throws. A
// connection idle for idle_timeout between requests, or slower than request_timeout to send one,
// is closed.
//
// Streamed responses (server-sent events): a handler may answer with HttpResponse::stream set;
// the server then sends the head without Content-Length and with "Connection: close", and calls
// `stream` on the connection's thread with an HttpStream to write the body piece by piece; the
// connection closes when it returns. Stop() makes every HttpStream report closed, so a stream
// that checks Write()'s result or WaitUntilClosed() ends promptly.
//
// TLS: with Options::tls.cert and .key every connection is HTTPS (TLS 1.2 or later): the
// handshake must finish within tls_handshake_timeout, then requests, keep-alive and streamed
// responses work as over plain TCP. A plain HTTP request on a TLS port gets a plain-text 400
// saying to use https:// and the connection is closed; any other failed handshake (garbage,
// an untrusted client, a timeout) just closes the connection. Either way the server keeps
// serving. Client certificates are not asked for (the endpoints authenticate on their own).
//
// Thread safety: Handle() and HandlePrefix() before Start(); handlers run concurrently and must be
// thread-safe. Stop() (or the destructor) closes every connection and waits for running handlers to
// return.
#ifndef STRATUS_COMMON_HTTP_SERVER_H_
#define STRATUS_COMMON_HTTP_SERVER_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/tls.h"

namespace stratus {

struct HttpRequest {
  std::string method;
  std::string path;                            // without the query string, %-decoded
  std::string query;                           // after '?', undecoded
  std::map<std::string, std::string> headers;  // names lower-cased; a repeated name: the last
  std::string body;
  std::string remote_address;

  // The header's value, or "" when absent. `name` is matched case-insensitively.
  std::string Header(const std::string& name) const;
};

// The body of a streamed response, written while the handler's stream function runs.
// Thread-safe: several threads may Write (each write is sent whole, in order of the calls).
class HttpStream {
 public:
  virtual ~HttpStream() = default;
  // Sends `data` now. False once the client has gone, has not read for the server's
  // request_timeout, or the server is stopping: the stream function should then return.
  virtual bool Write(std::string_view data) = 0;
  // Waits up to `timeout` for the client to close the connection or the server to stop;
  // true when either happened (bytes the client sends meanwhile are read and ignored).
  virtual bool WaitUntilClosed(std::chrono::milliseconds timeout) = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is streamed by this function and `body` is ignored (see above).
  std::function<void(HttpStream&)> stream;

  static HttpResponse Text(int status, std::string body);
  static HttpResponse Json(int status, std::string body);
  // 200 text/event-stream, not cached, not buffered by proxies; `produce` writes the events.
  static HttpResponse EventStream(std::function<void(HttpStream&)> produce);
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  struct Options {
    std::string address = "0.0.0.0";                // interface to listen on
    int port = 0;                                   // 0: pick a free port (see port())
    int max_connections = 4096;                     // open at once, each with its own thread
    size_t max_body_bytes = 8 << 20;                // larger bodies get 413 before a handler runs
    size_t max_header_bytes = 64 << 10;             // request line and headers
    std::chrono::milliseconds idle_timeout{60000};  // between requests of a connection
    std::chrono::milliseconds request_timeout{30000};  // to receive one request once begun
    size_t stack_bytes = 8 << 20;                      // of each connection thread
    TlsFiles tls;  // cert and key: serve HTTPS (see above); empty: plain HTTP
    std::chrono::milliseconds tls_handshake_timeout{10000};
  };

  static absl::StatusOr<std::unique_ptr<HttpServer>> Create(const Options& options);
  ~HttpServer();

  // Routes an exact path (any method) to a handler. Call before Start().
  void Handle(const std::string& path, HttpHandler handler);
  // Routes every path that starts with `prefix` (any method) and has no exact route; the
  // longest matching prefix wins. Call before Start().
  void HandlePrefix(const std::string& prefix, HttpHandler handler);

  // Starts listening; fails with UNAVAILABLE naming the address when the port is taken.
  absl::Status Start();
  void Stop();
  int port() const { return port_; }

 private:
  struct Shared;
  class Connection;
  explicit HttpServer(const Options& options);
  void AcceptLoop();
  void Serve(int fd, const std::string& remote);
  HttpResponse Dispatch(const HttpRequest& request) const;

  Options options_;
  std::map<std::string, HttpHandler> handlers_;
  std::map<std::string, HttpHandler> prefix_handlers_;
  std::shared_ptr<Shared> shared_;  // also held by connection threads
  std::shared_ptr<TlsContext> tls_;  // null: plain HTTP
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: tells the accept loop to stop
  int port_ = 0;
  std::thread acceptor_;
};

}  // namespace stratus

#endif  // STRATUS_COMMON_HTTP_SERVER_H_
