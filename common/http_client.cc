#include "common/http_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace stratus {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

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

// Connects a TCP socket to host:port; the descriptor or UNAVAILABLE.
absl::StatusOr<int> ConnectTcp(const std::string& hostport) {
  std::string host = hostport, port = "80";
  if (auto colon = hostport.rfind(':'); colon != std::string::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
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

}  // namespace

absl::StatusOr<HttpResult> HttpFetch(const std::string& method, const std::string& url,
                                     const std::map<std::string, std::string>& headers,
                                     const std::string& body, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  if (url.rfind("http://", 0) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("only http:// URLs are supported: ", url));
  }
  std::string rest = url.substr(7);
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
  absl::StatusOr<int> fd = ConnectTcp(hostport);
  if (!fd.ok()) return fd.status();
  Fd sock;
  sock.fd = *fd;
  std::string req = absl::StrCat(method, " ", path, " HTTP/1.1\r\nHost: ", hostport,
                                 "\r\nConnection: close\r\nContent-Length: ", body.size(), "\r\n");
  for (const auto& [k, v] : headers) absl::StrAppend(&req, k, ": ", v, "\r\n");
  req += "\r\n";
  req += body;
  size_t sent = 0;
  while (sent < req.size()) {
    if (auto s = WaitFor(sock.fd, POLLOUT, deadline); !s.ok()) return s;
    ssize_t n = send(sock.fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return absl::UnavailableError("http: send failed");
    sent += n;
  }
  std::string raw;
  char buf[16384];
  for (;;) {
    if (auto s = WaitFor(sock.fd, POLLIN, deadline); !s.ok()) return s;
    ssize_t n = recv(sock.fd, buf, sizeof(buf), 0);
    if (n < 0) return absl::UnavailableError("http: receive failed");
    if (n == 0) break;
    raw.append(buf, n);
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
    const std::string& host_port, std::chrono::milliseconds timeout) {
  std::unique_ptr<HttpConnection> c(new HttpConnection(host_port));
  if (auto s = c->Open(std::chrono::steady_clock::now() + timeout); !s.ok()) return s;
  return c;
}

HttpConnection::~HttpConnection() { Close(); }

void HttpConnection::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  buffer_.clear();
}

absl::Status HttpConnection::Open(std::chrono::steady_clock::time_point deadline) {
  Close();
  absl::StatusOr<int> fd = ConnectTcp(host_port_);
  if (!fd.ok()) return fd.status();
  fd_ = *fd;
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  ++connects_;
  return absl::OkStatus();
}

absl::StatusOr<HttpResult> HttpConnection::Send(const std::string& method, const std::string& path,
                                                const std::map<std::string, std::string>& headers,
                                                const std::string& body,
                                                std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (fd_ < 0) {
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
  for (size_t sent = 0; sent < req.size();) {
    if (auto s = WaitFor(fd_, POLLOUT, deadline); !s.ok()) return s;
    ssize_t n = send(fd_, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return absl::UnavailableError("http: send failed");
    sent += n;
  }
  // Reads more bytes into buffer_; false at end of stream.
  char buf[16384];
  auto more = [&]() -> absl::StatusOr<bool> {
    if (auto s = WaitFor(fd_, POLLIN, deadline); !s.ok()) return s;
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n < 0) return absl::UnavailableError("http: receive failed");
    buffer_.append(buf, n);
    return n > 0;
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
