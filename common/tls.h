// TLS material of the Stratus endpoints, checked and generated with OpenSSL.
//
// Files: a service serves TLS with `cert` (PEM certificate, optionally followed by its chain)
// and `key` (its PEM private key); with `client_ca` it also asks callers for a certificate and
// verifies it against that CA (mTLS). A client trusts `ca` (a PEM bundle). CheckServerFiles()
// and CheckCaFile() read the files as the servers will and fail with INVALID_ARGUMENT naming the
// file and the reason: unreadable (with the system's error), not PEM, the key does not match the
// certificate, expired on DATE or not valid before DATE (dates as "YYYY-MM-DD HH:MM:SS UTC").
//
// Generation (`stratus up --tls`): EnsureLocalCa() keeps a local CA (EC P-256, 10 years) and a
// server certificate it signed (EC P-256, 1 year, SAN: localhost, 127.0.0.1, ::1 and the hosts
// given) in a folder as ca.pem, ca.key, server.pem and server.key, files mode 0600 in a folder
// mode 0700. Files present and valid are reused: the CA while it has over 30 days left; the
// server certificate while it has over 30 days left, was signed by that CA, matches its key and
// names every host asked for. Otherwise the missing or stale part is made anew (a new CA means
// a new server certificate too).
//
// Sockets: TlsContext is an SSL_CTX for one side (server or client); TlsSocket runs TLS over a
// connected, non-blocking socket it does not own. Its Read/Write never block: they say which
// poll() events to wait for before retrying. A TlsSocket is thread-safe (one lock around every
// OpenSSL call), so one thread may read while another writes.
#ifndef STRATUS_COMMON_TLS_H_
#define STRATUS_COMMON_TLS_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace stratus {

struct TlsFiles {
  std::string cert;       // PEM certificate (chain) the server presents; "" for plain text
  std::string key;        // PEM private key of `cert`
  std::string client_ca;  // PEM CA that client certificates must chain to; "" for none (no mTLS)
  std::string ca;         // PEM CA bundle a client trusts; "" for the system's roots

  bool serves_tls() const { return !cert.empty() || !key.empty(); }
};

// Reads a whole file; INVALID_ARGUMENT "<what> <path>: cannot read: <reason>" when it cannot.
absl::StatusOr<std::string> ReadTlsFile(const std::string& what, const std::string& path);

// The server side of `files`: cert and key both set (or both empty: OK, plain text), each
// readable and PEM, the key matching the certificate, the certificate currently valid; and
// client_ca, when set, a readable PEM bundle of certificates currently valid.
absl::Status CheckServerFiles(const TlsFiles& files);
// A CA bundle a client trusts: readable, at least one PEM certificate, none expired.
absl::Status CheckCaFile(const std::string& path);

// A certificate and its key, both PEM.
struct PemCertificate {
  std::string cert;
  std::string key;
};

// What IssueCertificate() makes.
struct CertificateSpec {
  std::string common_name;
  std::vector<std::string> hosts;  // subjectAltName entries: IP addresses or DNS names
  bool is_ca = false;
  // Validity from now + not_before to now + not_after (negative values lie in the past).
  std::chrono::seconds not_before{-3600};
  std::chrono::seconds not_after{365LL * 24 * 3600};
};

// A new EC P-256 key and a certificate for it, signed by `issuer` (self-signed when null).
absl::StatusOr<PemCertificate> IssueCertificate(const CertificateSpec& spec,
                                                const PemCertificate* issuer = nullptr);

struct LocalCaFiles {
  std::string ca_cert;          // <dir>/ca.pem: what clients trust
  std::string server_cert;      // <dir>/server.pem
  std::string server_key;       // <dir>/server.key
  bool created_ca = false;      // the CA was made by this call (clients must trust it anew)
  bool created_server = false;  // the server certificate was made by this call
};

// Keeps the local CA and server certificate in `dir` as described above; `hosts` are the
// extra subjectAltName entries (0.0.0.0 and :: are skipped).
absl::StatusOr<LocalCaFiles> EnsureLocalCa(const std::string& dir,
                                           const std::vector<std::string>& hosts);

// The result of a non-blocking TlsSocket operation: n > 0 bytes moved; n == 0 the peer closed
// (reads only); n < 0 an error (`error` says which); or `wait` != 0: poll for these events
// (POLLIN/POLLOUT) and call again.
struct TlsIoResult {
  ssize_t n = 0;
  short wait = 0;
  std::string error;
};

class TlsContext {
 public:
  // Serving `files.cert`/`files.key` (checked as CheckServerFiles does); with client_ca, peers
  // are asked for a certificate, which is verified when presented; `require_client_cert`
  // refuses the handshake without one.
  static absl::StatusOr<std::shared_ptr<TlsContext>> Server(const TlsFiles& files,
                                                            bool require_client_cert = false);
  // Trusting `ca_file` (the system's roots when ""), presenting `cert_file`/`key_file` when set.
  static absl::StatusOr<std::shared_ptr<TlsContext>> Client(const std::string& ca_file,
                                                            const std::string& cert_file = "",
                                                            const std::string& key_file = "");
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* get() const { return ctx_; }

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

class TlsSocket {
 public:
  // Server handshake on `fd` (made non-blocking) until `deadline`. UNAVAILABLE with the reason
  // on failure; `*plain_http` (when given) is set when the peer spoke plain HTTP instead.
  static absl::StatusOr<std::unique_ptr<TlsSocket>> Accept(
      std::shared_ptr<TlsContext> ctx, int fd, std::chrono::steady_clock::time_point deadline,
      bool* plain_http = nullptr);
  // Client handshake on `fd` (made non-blocking), verifying the server's certificate for
  // `host` (a DNS name, also sent as SNI, or an IP address).
  static absl::StatusOr<std::unique_ptr<TlsSocket>> Connect(
      std::shared_ptr<TlsContext> ctx, int fd, const std::string& host,
      std::chrono::steady_clock::time_point deadline);
  ~TlsSocket();  // frees the session; the socket stays open
  TlsSocket(const TlsSocket&) = delete;
  TlsSocket& operator=(const TlsSocket&) = delete;

  TlsIoResult Read(char* buf, size_t len);
  TlsIoResult Write(const char* buf, size_t len);
  // Decrypted bytes waiting: a Read will return them without the socket being readable.
  bool Pending();
  // Sends close_notify, best effort and without waiting.
  void Shutdown();
  int fd() const { return fd_; }

 private:
  TlsSocket(std::shared_ptr<TlsContext> ctx, SSL* ssl, int fd)
      : ctx_(std::move(ctx)), ssl_(ssl), fd_(fd) {}
  TlsIoResult Result(int rc);

  std::shared_ptr<TlsContext> ctx_;
  SSL* ssl_;
  int fd_;
  std::mutex mu_;
};

}  // namespace stratus

#endif  // STRATUS_COMMON_TLS_H_
