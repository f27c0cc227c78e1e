#include "common/http_client.h"

#include <netdb.h>
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

}  // namespace

absl::StatusOr<HttpResult> HttpFetch(const std::string& method, const std::string& url,
                                     const std::map<std::string, std::string>& headers,
                                     const std::string& body,
                                     std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  if (url.rfind("http://", 0) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("only http:// URLs are supported: ", url));
  }
  std::string rest = url.substr(7);
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
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
  Fd sock;
  sock.fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int rc = connect(sock.fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (rc != 0) {
    return absl::UnavailableError(absl::StrCat("http: cannot connect to ", hostport, ": ",
                                               std::strerror(errno)));
  }
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
  std::vector<std::string> lines = absl::StrSplit(raw.substr(0, head_end), "\r\n");
  std::vector<std::string> status_line = absl::StrSplit(lines[0], ' ');
  if (status_line.size() < 2 || !absl::SimpleAtoi(status_line[1], &result.status)) {
    return absl::UnavailableError("http: malformed status line");
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    auto colon = lines[i].find(':');
    if (colon == std::string::npos) continue;
    result.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
  }
  result.body = raw.substr(head_end + 4);
  if (absl::AsciiStrToLower(result.headers["transfer-encoding"]) == "chunked") {
    result.body = DecodeChunked(result.body);
  }
  return result;
}

}  // namespace stratus
