#include "common/http_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/tls.h"

namespace stratus {
namespace {

using Clock = std::chrono::steady_clock;

absl::Status WaitFor(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
  if (left <= 0) return absl::DeadlineExceededError("http: timed out");
  pollfd p{fd, events, 0};
  int r = poll(&p, 1, static_cast<int>(left));
  if (r == 0) return absl::DeadlineExceededError("http: timed out");
  if (r < 0) return absl::UnavailableError("http: poll failed");
  return absl::OkStatus();
}

std::string DecodeChunked(const std::string& body) {
  std::string out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t eol = body.find("\r\n", pos);
    if (eol == std::string::npos) break;
    size_t len = std::strtoul(body.substr(pos, eol - pos).c_str(), nullptr, 16);
    if (len == 0) break;
    out += body.substr(eol + 2, len);
    pos = eol + 2 + len + 2;
  }
  return out;
}

// Parses the status line and headers (without the blank line) into `result`.
absl::Status ParseHead(absl::string_view head, HttpResult* result) {
  std::vector<absl::string_view> lines = absl::StrSplit(head, "\r\n");
  std::vector<absl::string_view> status_line = absl::StrSplit(lines[0], ' ');
  if (status_line.size() < 2 || !absl::SimpleAtoi(status_line[1], &result->status)) {
    return absl::UnavailableError("http: malformed status line");
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    auto colon = lines[i].find(':');
    if (colon == absl::string_view::npos) continue;
    result->headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
  }
  return absl::OkStatus();
}

// "host:port" (or "[v6]:port") split; the port is `default_port` when absent.
std::pair<std::string, std::string> SplitHostPort(const std::string& hostport,
                                                  const std::string& default_port) {
  std::string host = hostport, port = default_port;
  if (auto colon = hostport.rfind(':'); colon != std::string::npos &&
                                        hostport.find(']', colon) == std::string::npos &&
                                        (hostport[0] == '[' || hostport.find(':') == colon)) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return {host, port};
}

// Connects a TCP socket to host:port; the descriptor or UNAVAILABLE.
absl::StatusOr<int> ConnectTcp(const std::string& hostport, const std::string& default_port) {
  auto [host, port] = SplitHostPort(hostport, default_port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
    return absl::UnavailableError(absl::StrCat("http: cannot resolve ", host));
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int rc = fd < 0 ? -1 : connect(fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (rc != 0) {
    std::string error = std::strerror(errno);
    if (fd >= 0) close(fd);
    return absl::UnavailableError(absl::StrCat("http: cannot connect to ", hostport, ": ", error));
  }
  return fd;
}

// The client context trusting `ca_file` (else $STRATUS_TLS_CA, else the system's roots), made
// once per file.
absl::StatusOr<std::shared_ptr<TlsContext>> ClientContext(std::string ca_file) {
  if (ca_file.empty()) {
    const char* env = std::getenv("STRATUS_TLS_CA");
    if (env != nullptr) ca_file = env;
  }
  static std::mutex mu;
  static auto* contexts = new std::map<std::string, std::shared_ptr<TlsContext>>;
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = contexts->find(ca_file); it != contexts->end()) return it->second;
  absl::StatusOr<std::shared_ptr<TlsContext>> ctx = TlsContext::Client(ca_file);
  if (!ctx.ok())
    return absl::Status(ctx.status().code(), absl::StrCat("https: ", ctx.status().message()));
  (*contexts)[ca_file] = *ctx;
  return *ctx;
}

}  // namespace

// A connected socket, with TLS over it for https.
struct HttpClientStream {
  int fd = -1;
  std::unique_ptr<TlsSocket> tls;

  ~HttpClientStream() {
    if (tls) tls->Shutdown();
    tls.reset();
    if (fd >= 0) close(fd);
  }

  static absl::StatusOr<std::unique_ptr<HttpClientStream>> Open(const std::string& hostport,
                                                                bool https,
                                                                const std::string& ca_file,
                                                                Clock::time_point deadline) {
    auto stream = std::make_unique<HttpClientStream>();
    absl::StatusOr<int> fd = ConnectTcp(hostport, https ? "443" : "80");
    if (!fd.ok()) return fd.status();
    stream->fd = *fd;
    int one = 1;
    setsockopt(stream->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (https) {
      absl::StatusOr<std::shared_ptr<TlsContext>> ctx = ClientContext(ca_file);
      if (!ctx.ok()) return ctx.status();
      absl::StatusOr<std::unique_ptr<TlsSocket>> tls =
          TlsSocket::Connect(*ctx, stream->fd, SplitHostPort(hostport, "443").first, deadline);
      if (!tls.ok()) return tls.status();
      stream->tls = std::move(*tls);
    }
    return stream;
  }

  absl::Status SendAll(const std::string& data, Clock::time_point deadline) {
    for (size_t sent = 0; sent < data.size();) {
      TlsIoResult r;
      if (tls) {
        r = tls->Write(data.data() + sent, data.size() - sent);
      } else {
        if (auto s = WaitFor(fd, POLLOUT, deadline); !s.ok()) return s;
        r.n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      }
      if (r.wait != 0) {
        if (auto s = WaitFor(fd, r.wait, deadline); !s.ok()) return s;
        continue;
      }
      if (r.n <= 0) return absl::UnavailableError("http: send failed");
      sent += r.n;
    }
    return absl::OkStatus();
  }

  // Bytes received into `buf` (0 at the end of the stream).
  absl::StatusOr<size_t> Receive(char* buf, size_t len, Clock::time_point deadline) {
    short want = POLLIN;
    for (;;) {
      if (!tls || want != POLLIN || !tls->Pending()) {
        if (auto s = WaitFor(fd, want, deadline); !s.ok()) return s;
      }
      TlsIoResult r;
      if (tls) {
        r = tls->Read(buf, len);
      } else {
        r.n = recv(fd, buf, len, 0);
      }
      if (r.wait != 0) {
        want = r.wait;
        continue;
      }
      if (r.n < 0) return absl::UnavailableError("http: receive failed");
      return static_cast<size_t>(r.n);
    }
  }
};

absl::StatusOr<HttpResult> HttpFetch(const std::string& method, const std::string& url,
                                     const std::map<std::string, std::string>& headers,
                                     const std::string& body, std::chrono::milliseconds timeout) {
  return HttpFetch(method, url, headers, body, HttpFetchOptions{.timeout = timeout});
}

absl::StatusOr<HttpResult> HttpFetch(const std::string& method, const std::string& url,
                                     const std::map<std::string, std::string>& headers,
                                     const std::string& body, const HttpFetchOptions& options) {
  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  const bool https = url.rfind("https://", 0) == 0;
  if (!https && url.rfind("http://", 0) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("only http:// and https:// URLs are supported: ", url));
  }
  std::string rest = url.substr(https ? 8 : 7);
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
  absl::StatusOr<std::unique_ptr<HttpClientStream>> stream =
      HttpClientStream::Open(hostport, https, options.ca_file, deadline);
  if (!stream.ok()) return stream.status();
  std::string req = absl::StrCat(method, " ", path, " HTTP/1.1\r\nHost: ", hostport,
                                 "\r\nConnection: close\r\nContent-Length: ", body.size(), "\r\n");
  for (const auto& [k, v] : headers) absl::StrAppend(&req, k, ": ", v, "\r\n");
  req += "\r\n";
  req += body;
  if (auto s = (*stream)->SendAll(req, deadline); !s.ok()) return s;
  std::string raw;
  char buf[16384];
  for (;;) {
    absl::StatusOr<size_t> n = (*stream)->Receive(buf, sizeof(buf), deadline);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    raw.append(buf, *n);
  }
  size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) return absl::UnavailableError("http: malformed response");
  HttpResult result;
  if (auto s = ParseHead(absl::string_view(raw).substr(0, head_end), &result); !s.ok()) return s;
  result.body = raw.substr(head_end + 4);
  if (absl::AsciiStrToLower(result.headers["transfer-encoding"]) == "chunked") {
    result.body = DecodeChunked(result.body);
  }
  return result;
}

absl::StatusOr<std::unique_ptr<HttpConnection>> HttpConnection::Connect(
    const std::string& host_port, std::chrono::milliseconds timeout, const std::string& ca_file) {
  std::unique_ptr<HttpConnection> c;
  if (host_port.rfind("https://", 0) == 0) {
    c.reset(new HttpConnection(host_port.substr(8)));
    c->https_ = true;
    c->ca_file_ = ca_file;
  } else {
    c.reset(new HttpConnection(host_port));
  }
  if (auto s = c->Open(std::chrono::steady_clock::now() + timeout); !s.ok()) return s;
  return c;
}

HttpConnection::HttpConnection(std::string host_port) : host_port_(std::move(host_port)) {}

HttpConnection::~HttpConnection() { Close(); }

void HttpConnection::Close() {
  stream_.reset();
  buffer_.clear();
}

absl::Status HttpConnection::Open(std::chrono::steady_clock::time_point deadline) {
  Close();
  absl::StatusOr<std::unique_ptr<HttpClientStream>> stream =
      HttpClientStream::Open(host_port_, https_, ca_file_, deadline);
  if (!stream.ok()) return stream.status();
  stream_ = std::move(*stream);
  ++connects_;
  return absl::OkStatus();
}

absl::StatusOr<HttpResult> HttpConnection::Send(const std::string& method, const std::string& path,
                                                const std::map<std::string, std::string>& headers,
                                                const std::string& body,
                                                std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (stream_ == nullptr) {
    if (auto s = Open(deadline); !s.ok()) return s;
  }
  // Any failure below leaves the connection unusable (a response may be half read).
  struct CloseOnError {
    HttpConnection* c;
    bool ok = false;
    ~CloseOnError() {
      if (!ok) c->Close();
    }
  } guard{this};
  std::string req = absl::StrCat(method, " ", path, " HTTP/1.1\r\nHost: ", host_port_,
                                 "\r\nContent-Length: ", body.size(), "\r\n");
  for (const auto& [k, v] : headers) absl::StrAppend(&req, k, ": ", v, "\r\n");
  req += "\r\n";
  req += body;
  if (auto s = stream_->SendAll(req, deadline); !s.ok()) return s;
  // Reads more bytes into buffer_; false at end of stream.
  char buf[16384];
  auto more = [&]() -> absl::StatusOr<bool> {
    absl::StatusOr<size_t> n = stream_->Receive(buf, sizeof(buf), deadline);
    if (!n.ok()) return n.status();
    buffer_.append(buf, *n);
    return *n > 0;
  };
  auto need_more = [&]() -> absl::Status {
    absl::StatusOr<bool> got = more();
    if (!got.ok()) return got.status();
    if (!*got) return absl::UnavailableError("http: connection closed mid-response");
    return absl::OkStatus();
  };
  HttpResult result;
  size_t head_end;
  for (;;) {  // skips interim (1xx) responses
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (auto s = need_more(); !s.ok()) return s;
    }
    result = HttpResult{};
    if (auto s = ParseHead(absl::string_view(buffer_).substr(0, head_end), &result); !s.ok()) {
      return s;
    }
    buffer_.erase(0, head_end + 4);
    if (result.status >= 200) break;
  }
  const bool no_body = method == "HEAD" || result.status == 204 || result.status == 304;
  bool close_after = absl::AsciiStrToLower(result.headers["connection"]) == "close";
  if (no_body) {
    // nothing to read
  } else if (absl::AsciiStrToLower(result.headers["transfer-encoding"]) == "chunked") {
    size_t pos = 0;
    for (;;) {
      size_t eol;
      while ((eol = buffer_.find("\r\n", pos)) == std::string::npos) {
        if (auto s = need_more(); !s.ok()) return s;
      }
      size_t len = std::strtoul(buffer_.substr(pos, eol - pos).c_str(), nullptr, 16);
      if (len == 0) {  // last chunk; skip trailers up to the blank line
        size_t end;
        while ((end = buffer_.find("\r\n\r\n", eol)) == std::string::npos) {
          if (auto s = need_more(); !s.ok()) return s;
        }
        buffer_.erase(0, end + 4);
        break;
      }
      while (buffer_.size() < eol + 2 + len + 2) {
        if (auto s = need_more(); !s.ok()) return s;
      }
      result.body.append(buffer_, eol + 2, len);
      pos = eol + 2 + len + 2;
    }
  } else if (auto it = result.headers.find("content-length"); it != result.headers.end()) {
    size_t length = 0;
    if (!absl::SimpleAtoi(it->second, &length)) {
      return absl::UnavailableError("http: malformed Content-Length");
    }
    while (buffer_.size() < length) {
      if (auto s = need_more(); !s.ok()) return s;
    }
    result.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
  } else {  // body until the server closes
    for (;;) {
      absl::StatusOr<bool> got = more();
      if (!got.ok()) return got.status();
      if (!*got) break;
    }
    result.body = std::move(buffer_);
    close_after = true;
  }
  guard.ok = !close_after;
  return result;
}

}  // namespace stratus
