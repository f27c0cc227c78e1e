#include "common/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/logging.h"
#include "common/percent_decode.h"
#include "common/tls.h"
#include "common/trace.h"

namespace stratus {

// State the connection threads share with the server; they hold it by shared_ptr, so the last
// of them may touch it after Stop() has returned.
struct HttpServer::Shared {
  std::mutex mu;
  std::condition_variable cv;
  std::set<int> fds;  // open connections
  bool stopping = false;
};

namespace {

using Clock = std::chrono::steady_clock;

const char* ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

// Why a connection stops being read.
enum class ReadResult { kOk, kClosed, kTimeout, kError };

// The byte stream of one accepted connection: the socket itself, or TLS over it. Read and
// Write never block; when they cannot proceed they say which poll() events to wait for. TLS
// may hold decrypted bytes the socket no longer shows as readable: Pending() says so, and
// every wait for input checks it before polling.
class ConnIo {
 public:
  explicit ConnIo(int fd) : fd_(fd) {}

  void SetTls(std::unique_ptr<TlsSocket> tls) { tls_ = std::move(tls); }
  bool tls() const { return tls_ != nullptr; }
  int fd() const { return fd_; }

  TlsIoResult Read(char* buf, size_t len) {
    if (tls_) return tls_->Read(buf, len);
    TlsIoResult r;
    r.n = recv(fd_, buf, len, MSG_DONTWAIT);
    if (r.n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) r.wait = POLLIN;
    return r;
  }

  TlsIoResult Write(const char* buf, size_t len) {
    if (tls_) return tls_->Write(buf, len);
    TlsIoResult r;
    r.n = send(fd_, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (r.n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) r.wait = POLLOUT;
    return r;
  }

  bool Pending() { return tls_ != nullptr && tls_->Pending(); }

  // TLS: close_notify, best effort. The socket itself is closed by the connection's thread.
  void Finish() {
    if (tls_) tls_->Shutdown();
  }

 private:
  const int fd_;
  std::unique_ptr<TlsSocket> tls_;
};

// Buffered reading of one connection with deadlines.
class Reader {
 public:
  explicit Reader(ConnIo& io) : io_(io) {}

  // Appends what arrives before `deadline` to the buffer.
  ReadResult Fill(Clock::time_point deadline) {
    short want = POLLIN;
    for (;;) {
      if (want != POLLIN || !io_.Pending()) {
        auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return ReadResult::kTimeout;
        pollfd p{io_.fd(), want, 0};
        int r = poll(&p, 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
        if (r == 0) return ReadResult::kTimeout;
        if (r < 0) {
          if (errno == EINTR) continue;
          return ReadResult::kError;
        }
      }
      char buf[16384];
      TlsIoResult n = io_.Read(buf, sizeof(buf));
      if (n.wait != 0) {
        want = n.wait;
        continue;
      }
      if (n.n < 0) return ReadResult::kError;
      if (n.n == 0) return ReadResult::kClosed;
      buffer.append(buf, n.n);
      return ReadResult::kOk;
    }
  }

  std::string buffer;  // received, not yet consumed

 private:
  ConnIo& io_;
};

bool SendAll(ConnIo& io, std::string_view data, Clock::time_point deadline) {
  size_t sent = 0;
  while (sent < data.size()) {
    TlsIoResult n = io.Write(data.data() + sent, data.size() - sent);
    if (n.n > 0) {
      sent += n.n;
      continue;
    }
    if (n.wait != 0) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{io.fd(), n.wait, 0};
      int r = poll(&p, 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      continue;
    }
    return false;
  }
  return true;
}

// The whole response (head and body) as one buffer, so that it leaves in one send. A streamed
// response gets its head only, without Content-Length (its end is the connection's close).
std::string Serialize(const HttpResponse& r, bool keep_alive, bool head_only) {
  std::string out = absl::StrCat("HTTP/1.1 ", r.status, " ", ReasonPhrase(r.status),
                                 "\r\nContent-Type: ", r.content_type, "\r\n");
  if (!r.stream) absl::StrAppend(&out, "Content-Length: ", r.body.size(), "\r\n");
  for (const auto& [k, v] : r.headers) absl::StrAppend(&out, k, ": ", v, "\r\n");
  if (!keep_alive || r.stream) out += "Connection: close\r\n";
  out += "\r\n";
  if (!head_only && !r.stream) out += r.body;
  return out;
}

}  // namespace

std::string HttpRequest::Header(const std::string& name) const {
  auto it = headers.find(absl::AsciiStrToLower(name));
  return it == headers.end() ? "" : it->second;
}

HttpResponse HttpResponse::Text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::Json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::EventStream(std::function<void(HttpStream&)> produce) {
  HttpResponse r;
  r.content_type = "text/event-stream; charset=utf-8";
  r.headers = {{"Cache-Control", "no-cache, no-store"}, {"X-Accel-Buffering", "no"}};
  r.stream = std::move(produce);
  return r;
}

// The HttpStream of one connection.
class HttpServer::Connection final : public HttpStream {
 public:
  Connection(ConnIo& io, std::shared_ptr<Shared> shared, std::chrono::milliseconds send_timeout)
      : io_(io), shared_(std::move(shared)), send_timeout_(send_timeout) {}

  bool Write(std::string_view data) override {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (closed_ || Stopping()) return false;
    if (!SendAll(io_, data, Clock::now() + send_timeout_)) closed_ = true;
    return !closed_;
  }

  bool WaitUntilClosed(std::chrono::milliseconds timeout) override {
    const Clock::time_point deadline = Clock::now() + timeout;
    for (;;) {
      if (closed_ || Stopping()) return true;
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      int r = 1;
      if (!io_.Pending()) {
        pollfd p{io_.fd(), POLLIN | POLLRDHUP, 0};
        r = poll(&p, 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 || (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0) {
          closed_ = true;
          continue;
        }
      }
      if (r > 0) {  // the client sent something: read it away; 0 bytes means it closed
        char buf[4096];
        TlsIoResult n = io_.Read(buf, sizeof(buf));
        if (n.wait == 0 && n.n <= 0) closed_ = true;
      }
    }
  }

 private:
  bool Stopping() {
    std::lock_guard<std::mutex> lock(shared_->mu);
    return shared_->stopping;
  }

  ConnIo& io_;
  const std::shared_ptr<Shared> shared_;
  const std::chrono::milliseconds send_timeout_;
  std::mutex write_mu_;
  std::atomic<bool> closed_{false};
};

HttpServer::HttpServer(const Options& options)
    : options_(options), shared_(std::make_shared<Shared>()) {}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(const Options& options) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("http port out of range: ", options.port));
  }
  if (options.max_connections < 1) {
    return absl::InvalidArgumentError("http max_connections must be >= 1");
  }
  std::unique_ptr<HttpServer> server(new HttpServer(options));
  if (options.tls.serves_tls()) {
    // The HTTP endpoints authenticate on their own (SigV4, console sessions; probes and
    // /metrics are open), so client certificates are not asked for here.
    absl::StatusOr<std::shared_ptr<TlsContext>> ctx =
        TlsContext::Server({.cert = options.tls.cert, .key = options.tls.key});
    if (!ctx.ok()) return ctx.status();
    server->tls_ = std::move(*ctx);
  }
  return server;
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(const std::string& path, HttpHandler handler) {
  handlers_[path] = std::move(handler);
}

void HttpServer::HandlePrefix(const std::string& prefix, HttpHandler handler) {
  prefix_handlers_[prefix] = std::move(handler);
}

absl::Status HttpServer::Start() {
  const std::string listen_on = absl::StrCat(options_.address, ":", options_.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(options_.port);
  if (getaddrinfo(options_.address.empty() ? nullptr : options_.address.c_str(), port.c_str(),
                  &hints, &res) != 0 ||
      res == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for HTTP on ", listen_on, ": address does not resolve"));
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const bool ok = fd >= 0 && bind(fd, res->ai_addr, res->ai_addrlen) == 0 && listen(fd, 1024) == 0;
  const std::string error = std::strerror(errno);
  freeaddrinfo(res);
  if (!ok) {
    if (fd >= 0) close(fd);
    return absl::UnavailableError(
        absl::StrCat("cannot listen for HTTP on ", listen_on, ": ", error));
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                           : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  listen_fd_ = fd;
  wake_fd_ = eventfd(0, EFD_CLOEXEC);
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->stopping = false;
  }
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (listen_fd_ < 0) return;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->stopping = true;
    // Wakes connection threads blocked in poll; a running handler finishes, its send fails.
    for (int fd : shared_->fds) shutdown(fd, SHUT_RDWR);
  }
  shared_->cv.notify_all();
  uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof(one)) < 0) {
    // The accept loop also polls with a timeout; it notices `stopping` then.
  }
  if (acceptor_.joinable()) acceptor_.join();
  close(listen_fd_);
  close(wake_fd_);
  listen_fd_ = wake_fd_ = -1;
  std::unique_lock<std::mutex> lock(shared_->mu);
  shared_->cv.wait(lock, [&] { return shared_->fds.empty(); });
}

void HttpServer::AcceptLoop() {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, std::max<size_t>(options_.stack_bytes, 1 << 20));
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  for (;;) {
    {
      // At most max_connections at once: the others wait in the backlog.
      std::unique_lock<std::mutex> lock(shared_->mu);
      shared_->cv.wait(lock, [&] {
        return shared_->stopping ||
               static_cast<int>(shared_->fds.size()) < options_.max_connections;
      });
      if (shared_->stopping) break;
    }
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    int r = poll(p, 2, 1000);
    if (r < 0 && errno != EINTR) break;
    if (p[1].revents != 0) break;
    if (r <= 0 || (p[0].revents & POLLIN) == 0) continue;
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) {
        SLOG(WARNING) << "http: out of file descriptors" << Kv("error", std::strerror(errno));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char host[INET6_ADDRSTRLEN] = "";
    if (addr.ss_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, host, sizeof(host));
    } else if (addr.ss_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, host, sizeof(host));
    }
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      shared_->fds.insert(fd);
    }
    struct Start {
      HttpServer* server;
      int fd;
      std::string remote;
    };
    auto* start = new Start{this, fd, host};
    pthread_t thread;
    int rc = pthread_create(
        &thread, &attr,
        [](void* arg) -> void* {
          std::unique_ptr<Start> s(static_cast<Start*>(arg));
          std::shared_ptr<Shared> shared = s->server->shared_;
          s->server->Serve(s->fd, s->remote);
          std::lock_guard<std::mutex> lock(shared->mu);
          shared->fds.erase(s->fd);
          close(s->fd);
          shared->cv.notify_all();
          return nullptr;
        },
        start);
    if (rc != 0) {
      SLOG(WARNING) << "http: cannot start a connection thread" << Kv("error", std::strerror(rc));
      delete start;
      std::lock_guard<std::mutex> lock(shared_->mu);
      shared_->fds.erase(fd);
      close(fd);
    }
  }
  pthread_attr_destroy(&attr);
}

HttpResponse HttpServer::Dispatch(const HttpRequest& req) const {
  const HttpHandler* handler = nullptr;
  if (auto it = handlers_.find(req.path); it != handlers_.end()) {
    handler = &it->second;
  } else {
    // Keys sort so that a longer prefix comes after its own prefixes: scan back from the last
    // key <= path for the first one the path starts with.
    for (auto p = prefix_handlers_.upper_bound(req.path); p != prefix_handlers_.begin();) {
      --p;
      if (absl::StartsWith(req.path, p->first)) {
        handler = &p->second;
        break;
      }
    }
  }
  if (handler == nullptr) {
    return HttpResponse::Text(404, absl::StrCat("no such path: ", req.path, "\n"));
  }
  try {
    return (*handler)(req);
  } catch (const std::exception& e) {
    SLOG(ERROR) << "http handler failed" << Kv("path", req.path) << Kv("error", e.what());
    return HttpResponse::Text(500, absl::StrCat("internal error: ", e.what(), "\n"));
  }
}

void HttpServer::Serve(int fd, const std::string& remote) {
  ConnIo io(fd);
  if (tls_) {
    bool plain_http = false;
    absl::StatusOr<std::unique_ptr<TlsSocket>> tls =
        TlsSocket::Accept(tls_, fd, Clock::now() + options_.tls_handshake_timeout, &plain_http);
    if (!tls.ok()) {
      SLOG(DEBUG) << "http: TLS handshake failed" << Kv("remote", remote)
                  << Kv("error", tls.status().message());
      if (plain_http) {  // an answer the client can read, as plain text, then close
        HttpResponse r = HttpResponse::Text(
            400, "this port speaks HTTPS: the plain HTTP request was refused; use https://\n");
        SendAll(io, Serialize(r, false, false), Clock::now() + std::chrono::seconds(1));
        shutdown(fd, SHUT_WR);
        Reader drain(io);  // lets the answer arrive before the close (no RST on unread bytes)
        while (drain.Fill(Clock::now() + std::chrono::milliseconds(200)) == ReadResult::kOk) {
          drain.buffer.clear();
        }
      }
      return;
    }
    io.SetTls(std::move(*tls));
  }
  struct FinishTls {
    ConnIo& io;
    ~FinishTls() { io.Finish(); }
  } finish{io};
  Reader in(io);
  // Sends a response of the server's own; false when the connection is to be closed.
  auto reply = [&](const HttpResponse& r, bool keep_alive, bool head_only) {
    return SendAll(io, Serialize(r, keep_alive, head_only),
                   Clock::now() + options_.request_timeout) &&
           keep_alive;
  };
  auto refuse = [&](int status, const std::string& message) {
    reply(HttpResponse::Text(status, message + "\n"), false, false);
  };
  for (;;) {
    // ---- request line and headers ----
    size_t head_end;
    Clock::time_point deadline =
        Clock::now() + (in.buffer.empty() ? options_.idle_timeout : options_.request_timeout);
    bool started = !in.buffer.empty();
    while ((head_end = in.buffer.find("\r\n\r\n")) == std::string::npos) {
      if (in.buffer.size() > options_.max_header_bytes) {
        return refuse(431, "request headers too large");
      }
      ReadResult r = in.Fill(deadline);
      if (r == ReadResult::kTimeout && started) return refuse(408, "request timed out");
      if (r != ReadResult::kOk) return;
      if (!started) {
        started = true;
        deadline = Clock::now() + options_.request_timeout;
      }
      // Stray blank lines between requests (RFC 9112 2.2).
      while (absl::StartsWith(in.buffer, "\r\n")) in.buffer.erase(0, 2);
    }
    if (head_end > options_.max_header_bytes) return refuse(431, "request headers too large");
    HttpRequest req;
    req.remote_address = remote;
    std::vector<absl::string_view> lines =
        absl::StrSplit(absl::string_view(in.buffer).substr(0, head_end), "\r\n");
    std::vector<absl::string_view> parts = absl::StrSplit(lines[0], ' ');
    if (parts.size() != 3 || parts[0].empty() || parts[1].empty() ||
        !absl::StartsWith(parts[2], "HTTP/1.")) {
      return refuse(400, "malformed request line");
    }
    req.method = std::string(parts[0]);
    absl::string_view target = parts[1];
    const bool http10 = parts[2] == "HTTP/1.0";
    if (size_t q = target.find('?'); q != absl::string_view::npos) {
      req.query = std::string(target.substr(q + 1));
      target = target.substr(0, q);
    }
    req.path = PercentDecode(target);
    for (size_t i = 1; i < lines.size(); ++i) {
      size_t colon = lines[i].find(':');
      if (colon == absl::string_view::npos || colon == 0) {
        return refuse(400, "malformed header line");
      }
      req.headers[absl::AsciiStrToLower(absl::StripAsciiWhitespace(lines[i].substr(0, colon)))] =
          std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    }
    in.buffer.erase(0, head_end + 4);
    const std::string connection = absl::AsciiStrToLower(req.Header("connection"));
    bool keep_alive = http10 ? absl::StrContains(connection, "keep-alive")
                             : !absl::StrContains(connection, "close");
    const bool head_only = req.method == "HEAD";

    // ---- body ----
    const std::string transfer = absl::AsciiStrToLower(req.Header("transfer-encoding"));
    const bool chunked = !transfer.empty() && transfer != "identity";
    if (chunked && !absl::EndsWith(transfer, "chunked")) {
      return refuse(501, "unsupported transfer-encoding");
    }
    size_t length = 0;
    if (!chunked && req.headers.count("content-length") > 0 &&
        !absl::SimpleAtoi(req.Header("content-length"), &length)) {
      return refuse(400, "malformed content-length");
    }
    if (!chunked && length > options_.max_body_bytes) {
      return (void)reply(
          HttpResponse::Json(413, absl::StrCat("{\"message\":\"request body of ", length,
                                               " bytes exceeds ", options_.max_body_bytes, "\"}")),
          false, false);
    }
    if (absl::AsciiStrToLower(req.Header("expect")) == "100-continue" && (chunked || length > 0) &&
        in.buffer.empty()) {
      if (!SendAll(io, "HTTP/1.1 100 Continue\r\n\r\n", deadline)) return;
    }
    auto too_large = [&] {
      reply(HttpResponse::Json(413, "{\"message\":\"request body too large\"}"), false, false);
    };
    if (chunked) {
      for (;;) {
        size_t eol;
        while ((eol = in.buffer.find("\r\n")) == std::string::npos) {
          if (in.buffer.size() > 1024) return refuse(400, "malformed chunk");
          if (in.Fill(deadline) != ReadResult::kOk) return;
        }
        size_t size = 0;
        absl::string_view size_text = absl::string_view(in.buffer).substr(0, eol);
        size_text = size_text.substr(0, size_text.find(';'));  // chunk extensions
        if (!absl::SimpleHexAtoi(absl::StripAsciiWhitespace(size_text), &size)) {
          return refuse(400, "malformed chunk size");
        }
        if (req.body.size() + size > options_.max_body_bytes) return too_large();
        if (size == 0) {  // trailers up to the blank line
          size_t end;
          while ((end = in.buffer.find("\r\n\r\n", eol)) == std::string::npos) {
            if (in.buffer.size() > options_.max_header_bytes) {
              return refuse(431, "trailers too large");
            }
            if (in.Fill(deadline) != ReadResult::kOk) return;
          }
          in.buffer.erase(0, end + 4);
          break;
        }
        while (in.buffer.size() < eol + 2 + size + 2) {
          if (in.Fill(deadline) != ReadResult::kOk) return;
        }
        req.body.append(in.buffer, eol + 2, size);
        in.buffer.erase(0, eol + 2 + size + 2);
      }
    } else {
      while (in.buffer.size() < length) {
        if (in.Fill(deadline) != ReadResult::kOk) return;
      }
      req.body = in.buffer.substr(0, length);
      in.buffer.erase(0, length);
    }

    // ---- handler and response ----
    // The request's trace (common/trace.h), current for its handler and stream on this thread.
    trace::TraceScope trace_scope(trace::ServerContextFor(req.Header(trace::kTraceparentHeader)));
    HttpResponse response = Dispatch(req);
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      if (shared_->stopping) keep_alive = false;
    }
    if (response.stream) {
      if (!reply(response, true, head_only) || head_only) return;
      Connection stream(io, shared_, options_.request_timeout);
      try {
        response.stream(stream);
      } catch (const std::exception& e) {
        SLOG(ERROR) << "http stream failed" << Kv("path", req.path) << Kv("error", e.what());
      }
      return;
    }
    if (!reply(response, keep_alive, head_only)) return;
  }
}

}  // namespace stratus
