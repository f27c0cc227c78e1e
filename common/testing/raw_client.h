// A raw TCP client for tests of HTTP servers: sends exactly the bytes a test wants and reads
// what comes back, streamed answers included (server-sent events), on 127.0.0.1.
#ifndef STRATUS_COMMON_TESTING_RAW_CLIENT_H_
#define STRATUS_COMMON_TESTING_RAW_CLIENT_H_

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace stratus::testing_util {

class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawClient() { close(fd_); }
  bool connected() const { return connected_; }
  void Send(const std::string& bytes) {
    ASSERT_EQ(send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  // Reads until `marker` has arrived `count` times, the peer closes, or 10 s pass.
  std::string ReadUntil(const std::string& marker, int count = 1) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      int seen = 0;
      for (size_t at = received_.find(marker); at != std::string::npos;
           at = received_.find(marker, at + 1)) {
        ++seen;
      }
      if (seen >= count) break;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      received_.append(buf, n);
    }
    return received_;
  }
  // True when the server closes the connection within 10 s.
  bool WaitClosed() {
    ReadUntil("\x01never\x01");
    return closed_;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string received_;
};

}  // namespace stratus::testing_util

#endif  // STRATUS_COMMON_TESTING_RAW_CLIENT_H_
