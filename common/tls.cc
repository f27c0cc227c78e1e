#include "common/tls.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace stratus {
namespace {

using Clock = std::chrono::steady_clock;

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

// The oldest error of this thread's OpenSSL queue as text (and clears the queue).
std::string OpenSslError(const std::string& fallback = "unknown OpenSSL error") {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return fallback;
  const char* reason = ERR_reason_error_string(e);
  return reason != nullptr ? reason : absl::StrCat("OpenSSL error ", e);
}

std::string FormatTime(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return "an unreadable date";
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

// Seconds from now until `t` (negative when past).
long long SecondsUntil(const ASN1_TIME* t) {
  int days = 0, secs = 0;
  if (ASN1_TIME_diff(&days, &secs, nullptr, t) != 1) return -1;
  return static_cast<long long>(days) * 86400 + secs;
}

absl::Status Invalid(const std::string& what, const std::string& path, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(what, " ", path, ": ", why));
}

// Every certificate of a PEM text, in order.
std::vector<X509Ptr> ParseCertificates(const std::string& pem) {
  std::vector<X509Ptr> out;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(x);
  ERR_clear_error();  // the end of the text reads as an error
  return out;
}

KeyPtr ParseKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return key;
}

absl::Status CheckValidity(const std::string& what, const std::string& path, X509* cert) {
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
    return Invalid(what, path, absl::StrCat("expired on ", FormatTime(X509_get0_notAfter(cert))));
  }
  if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) {
    return Invalid(what, path,
                   absl::StrCat("not valid before ", FormatTime(X509_get0_notBefore(cert))));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<X509Ptr>> ReadCertificates(const std::string& what,
                                                      const std::string& path) {
  absl::StatusOr<std::string> pem = ReadTlsFile(what, path);
  if (!pem.ok()) return pem.status();
  std::vector<X509Ptr> certs = ParseCertificates(*pem);
  if (certs.empty()) return Invalid(what, path, "not a PEM certificate");
  for (X509Ptr& c : certs) {
    if (absl::Status s = CheckValidity(what, path, c.get()); !s.ok()) return s;
  }
  return certs;
}

std::string ToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, n);
}

std::string ToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, n);
}

bool IsIpAddress(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

absl::Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
  if (ext == nullptr) {
    return absl::InternalError(
        absl::StrCat("certificate extension ", OBJ_nid2sn(nid), "=", value, ": ", OpenSslError()));
  }
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return absl::OkStatus();
}

// Writes `data` to `path` with mode 0600, through a temporary file renamed into place.
absl::Status WritePrivateFile(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot write ", tmp, ": ", strerror(errno)));
  fchmod(fd, 0600);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string error = strerror(errno);
      close(fd);
      return absl::InternalError(absl::StrCat("cannot write ", tmp, ": ", error));
    }
    done += n;
  }
  if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot write ", path, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

// Whether `cert` names `host` in its subjectAltName.
bool Names(X509* cert, const std::string& host) {
  if (IsIpAddress(host)) return X509_check_ip_asc(cert, host.c_str(), 0) == 1;
  return X509_check_host(cert, host.c_str(), host.size(), 0, nullptr) == 1;
}

constexpr long long kRenewBeforeSeconds = 30LL * 24 * 3600;

// The pair in `cert_path`/`key_path` when both parse, match and have over 30 days left.
std::optional<std::pair<X509Ptr, KeyPtr>> LoadFresh(const std::string& cert_path,
                                                    const std::string& key_path) {
  absl::StatusOr<std::string> cert_pem = ReadTlsFile("cert", cert_path);
  absl::StatusOr<std::string> key_pem = ReadTlsFile("key", key_path);
  if (!cert_pem.ok() || !key_pem.ok()) return std::nullopt;
  std::vector<X509Ptr> certs = ParseCertificates(*cert_pem);
  KeyPtr key = ParseKey(*key_pem);
  if (certs.empty() || key == nullptr || X509_check_private_key(certs[0].get(), key.get()) != 1 ||
      X509_cmp_current_time(X509_get0_notBefore(certs[0].get())) > 0 ||
      SecondsUntil(X509_get0_notAfter(certs[0].get())) < kRenewBeforeSeconds) {
    ERR_clear_error();
    return std::nullopt;
  }
  return std::make_pair(std::move(certs[0]), std::move(key));
}

// A socket BIO that sends with MSG_NOSIGNAL: a peer that has gone must not raise SIGPIPE (the
// stock socket BIO uses write()).
int BioWrite(BIO* b, const char* data, int len) {
  BIO_clear_retry_flags(b);
  const int fd = static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b)));
  ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(b);
  return static_cast<int>(n);
}

int BioRead(BIO* b, char* data, int len) {
  BIO_clear_retry_flags(b);
  const int fd = static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b)));
  ssize_t n = recv(fd, data, len, 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(b);
  return static_cast<int>(n);
}

long BioCtrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

int BioCreate(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO* NewSocketBio(int fd) {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "stratus socket");
    BIO_meth_set_write(m, BioWrite);
    BIO_meth_set_read(m, BioRead);
    BIO_meth_set_ctrl(m, BioCtrl);
    BIO_meth_set_create(m, BioCreate);
    return m;
  }();
  BIO* bio = BIO_new(method);
  if (bio != nullptr) BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  return bio;
}

// Polls `fd` for `events` until `deadline`; false on timeout or error.
bool PollUntil(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    int r = poll(&p, 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
    if (r < 0 && errno == EINTR) continue;
    return r > 0;
  }
}

void SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL, 0);
  if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

// Runs the handshake of `ssl` until done, failed or past `deadline`.
absl::Status Handshake(SSL* ssl, int fd, Clock::time_point deadline, bool* plain_http) {
  for (;;) {
    ERR_clear_error();
    int rc = SSL_do_handshake(ssl);
    if (rc == 1) return absl::OkStatus();
    int err = SSL_get_error(ssl, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      if (!PollUntil(fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
        ERR_clear_error();
        return absl::UnavailableError("TLS handshake timed out");
      }
      continue;
    }
    unsigned long e = ERR_peek_error();
    if (plain_http != nullptr && ERR_GET_REASON(e) == SSL_R_HTTP_REQUEST) *plain_http = true;
    std::string why = err == SSL_ERROR_SYSCALL && e == 0
                          ? (errno != 0 ? std::string(strerror(errno)) : "connection closed")
                          : OpenSslError();
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
      why = absl::StrCat(why, " (", X509_verify_cert_error_string(verify), ")");
    }
    ERR_clear_error();
    return absl::UnavailableError(absl::StrCat("TLS handshake failed: ", why));
  }
}

SSL_CTX* NewContext(const SSL_METHOD* method) {
  SSL_CTX* ctx = SSL_CTX_new(method);
  if (ctx == nullptr) return nullptr;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // A peer closing without close_notify reads as the end of the stream, as with plain TCP.
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  return ctx;
}

}  // namespace

absl::StatusOr<std::string> ReadTlsFile(const std::string& what, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Invalid(what, path, absl::StrCat("cannot read: ", strerror(errno)));
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return Invalid(what, path, absl::StrCat("cannot read: ", strerror(errno)));
  return s.str();
}

absl::Status CheckServerFiles(const TlsFiles& files) {
  if (files.cert.empty() != files.key.empty()) {
    return absl::InvalidArgumentError(files.cert.empty()
                                          ? "tls: --tls-key is set without --tls-cert"
                                          : "tls: --tls-cert is set without --tls-key");
  }
  if (files.cert.empty()) {
    if (!files.client_ca.empty()) {
      return absl::InvalidArgumentError(
          "tls: --tls-client-ca needs --tls-cert and --tls-key (mTLS runs over TLS)");
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<X509Ptr>> certs = ReadCertificates("tls cert", files.cert);
  if (!certs.ok()) return certs.status();
  absl::StatusOr<std::string> key_pem = ReadTlsFile("tls key", files.key);
  if (!key_pem.ok()) return key_pem.status();
  KeyPtr key = ParseKey(*key_pem);
  if (key == nullptr) return Invalid("tls key", files.key, "not a PEM private key");
  if (X509_check_private_key((*certs)[0].get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("tls key ", files.key, " does not match certificate ", files.cert));
  }
  if (!files.client_ca.empty()) {
    if (auto c = ReadCertificates("tls client CA", files.client_ca); !c.ok()) return c.status();
  }
  return absl::OkStatus();
}

absl::Status CheckCaFile(const std::string& path) {
  return ReadCertificates("tls CA", path).status();
}

absl::StatusOr<PemCertificate> IssueCertificate(const CertificateSpec& spec,
                                                const PemCertificate* issuer) {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (key == nullptr) return absl::InternalError(absl::StrCat("EC key: ", OpenSslError()));
  X509Ptr issuer_cert;
  KeyPtr issuer_key;
  if (issuer != nullptr) {
    std::vector<X509Ptr> certs = ParseCertificates(issuer->cert);
    issuer_key = ParseKey(issuer->key);
    if (certs.empty() || issuer_key == nullptr) {
      return absl::InvalidArgumentError("issuer: not a PEM certificate and key");
    }
    issuer_cert = std::move(certs[0]);
  }
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  BIGNUM* serial = BN_new();
  BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get()));
  BN_free(serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(spec.not_before.count()));
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(spec.not_after.count()));
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("Stratus"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), issuer_cert ? X509_get_subject_name(issuer_cert.get()) : name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer_cert ? issuer_cert.get() : cert.get(), cert.get(), nullptr, nullptr,
                 0);
  std::vector<std::pair<int, std::string>> extensions = {
      {NID_basic_constraints, spec.is_ca ? "critical,CA:TRUE,pathlen:0" : "critical,CA:FALSE"},
      {NID_key_usage,
       spec.is_ca ? "critical,keyCertSign,cRLSign,digitalSignature" : "critical,digitalSignature"},
      {NID_subject_key_identifier, "hash"},
      {NID_authority_key_identifier, "keyid:always"},
  };
  if (!spec.is_ca) extensions.emplace_back(NID_ext_key_usage, "serverAuth,clientAuth");
  std::vector<std::string> alt;
  for (const std::string& h : spec.hosts) {
    alt.push_back(absl::StrCat(IsIpAddress(h) ? "IP:" : "DNS:", h));
  }
  if (!alt.empty()) extensions.emplace_back(NID_subject_alt_name, absl::StrJoin(alt, ","));
  for (const auto& [nid, value] : extensions) {
    if (absl::Status s = AddExtension(cert.get(), &ctx, nid, value); !s.ok()) return s;
  }
  if (X509_sign(cert.get(), issuer_key ? issuer_key.get() : key.get(), EVP_sha256()) == 0) {
    return absl::InternalError(absl::StrCat("signing the certificate: ", OpenSslError()));
  }
  return PemCertificate{ToPem(cert.get()), ToPem(key.get())};
}

absl::StatusOr<LocalCaFiles> EnsureLocalCa(const std::string& dir,
                                           const std::vector<std::string>& hosts) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  LocalCaFiles out{.ca_cert = dir + "/ca.pem",
                   .server_cert = dir + "/server.pem",
                   .server_key = dir + "/server.key"};
  const std::string ca_key_path = dir + "/ca.key";

  std::vector<std::string> names = {"localhost", "127.0.0.1", "::1"};
  for (const std::string& h : hosts) {
    if (h.empty() || h == "0.0.0.0" || h == "::" || h == "[::]") continue;
    if (std::find(names.begin(), names.end(), h) == names.end()) names.push_back(h);
  }

  PemCertificate ca;
  auto fresh_ca = LoadFresh(out.ca_cert, ca_key_path);
  if (fresh_ca) {
    ca = {ToPem(fresh_ca->first.get()), ToPem(fresh_ca->second.get())};
  } else {
    absl::StatusOr<PemCertificate> made =
        IssueCertificate({.common_name = "Stratus local CA",
                          .is_ca = true,
                          .not_after = std::chrono::seconds(10LL * 365 * 24 * 3600)});
    if (!made.ok()) return made.status();
    ca = *made;
    // The key first: a ca.pem without its key would be taken for stale on the next start.
    if (auto s = WritePrivateFile(ca_key_path, ca.key); !s.ok()) return s;
    if (auto s = WritePrivateFile(out.ca_cert, ca.cert); !s.ok()) return s;
    out.created_ca = true;
  }

  bool server_ok = false;
  if (!out.created_ca) {
    if (auto server = LoadFresh(out.server_cert, out.server_key)) {
      X509* s = server->first.get();
      server_ok = X509_check_issued(fresh_ca->first.get(), s) == X509_V_OK &&
                  X509_verify(s, X509_get0_pubkey(fresh_ca->first.get())) == 1;
      for (const std::string& h : names) server_ok = server_ok && Names(s, h);
      ERR_clear_error();
    }
  }
  if (!server_ok) {
    absl::StatusOr<PemCertificate> server = IssueCertificate(
        {.common_name = names.size() > 3 ? names[3] : "localhost", .hosts = names}, &ca);
    if (!server.ok()) return server.status();
    if (auto s = WritePrivateFile(out.server_key, server->key); !s.ok()) return s;
    if (auto s = WritePrivateFile(out.server_cert, server->cert); !s.ok()) return s;
    out.created_server = true;
  }
  return out;
}

// ---- TlsContext ----

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

absl::StatusOr<std::shared_ptr<TlsContext>> TlsContext::Server(const TlsFiles& files,
                                                               bool require_client_cert) {
  if (files.cert.empty() || files.key.empty()) {
    return absl::InvalidArgumentError("tls: a server needs a certificate and a key");
  }
  if (absl::Status s = CheckServerFiles(files); !s.ok()) return s;
  SSL_CTX* raw = NewContext(TLS_server_method());
  if (raw == nullptr) return absl::InternalError(absl::StrCat("SSL_CTX: ", OpenSslError()));
  std::shared_ptr<TlsContext> ctx(new TlsContext(raw));
  if (SSL_CTX_use_certificate_chain_file(raw, files.cert.c_str()) != 1) {
    return Invalid("tls cert", files.cert, OpenSslError());
  }
  if (SSL_CTX_use_PrivateKey_file(raw, files.key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(raw) != 1) {
    return Invalid("tls key", files.key, OpenSslError());
  }
  if (!files.client_ca.empty()) {
    if (SSL_CTX_load_verify_locations(raw, files.client_ca.c_str(), nullptr) != 1) {
      return Invalid("tls client CA", files.client_ca, OpenSslError());
    }
    SSL_CTX_set_client_CA_list(raw, SSL_load_client_CA_file(files.client_ca.c_str()));
    SSL_CTX_set_verify(
        raw, SSL_VERIFY_PEER | (require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
        nullptr);
  }
  ERR_clear_error();
  return ctx;
}

absl::StatusOr<std::shared_ptr<TlsContext>> TlsContext::Client(const std::string& ca_file,
                                                               const std::string& cert_file,
                                                               const std::string& key_file) {
  if (!ca_file.empty()) {
    if (absl::Status s = CheckCaFile(ca_file); !s.ok()) return s;
  }
  if (!cert_file.empty() || !key_file.empty()) {
    if (absl::Status s = CheckServerFiles({.cert = cert_file, .key = key_file}); !s.ok()) return s;
  }
  SSL_CTX* raw = NewContext(TLS_client_method());
  if (raw == nullptr) return absl::InternalError(absl::StrCat("SSL_CTX: ", OpenSslError()));
  std::shared_ptr<TlsContext> ctx(new TlsContext(raw));
  SSL_CTX_set_verify(raw, SSL_VERIFY_PEER, nullptr);
  const int loaded = ca_file.empty() ? SSL_CTX_set_default_verify_paths(raw)
                                     : SSL_CTX_load_verify_locations(raw, ca_file.c_str(), nullptr);
  if (loaded != 1) return Invalid("tls CA", ca_file, OpenSslError());
  if (!cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(raw, cert_file.c_str()) != 1) {
      return Invalid("tls cert", cert_file, OpenSslError());
    }
    if (SSL_CTX_use_PrivateKey_file(raw, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return Invalid("tls key", key_file, OpenSslError());
    }
  }
  ERR_clear_error();
  return ctx;
}

// ---- TlsSocket ----

absl::StatusOr<std::unique_ptr<TlsSocket>> TlsSocket::Accept(std::shared_ptr<TlsContext> ctx,
                                                             int fd, Clock::time_point deadline,
                                                             bool* plain_http) {
  SSL* ssl = SSL_new(ctx->get());
  BIO* bio = ssl == nullptr ? nullptr : NewSocketBio(fd);
  if (bio == nullptr) {
    SSL_free(ssl);
    return absl::InternalError(absl::StrCat("SSL_new: ", OpenSslError()));
  }
  SSL_set_bio(ssl, bio, bio);
  std::unique_ptr<TlsSocket> socket(new TlsSocket(std::move(ctx), ssl, fd));
  SetNonBlocking(fd);
  SSL_set_accept_state(ssl);
  if (absl::Status s = Handshake(ssl, fd, deadline, plain_http); !s.ok()) return s;
  return socket;
}

absl::StatusOr<std::unique_ptr<TlsSocket>> TlsSocket::Connect(std::shared_ptr<TlsContext> ctx,
                                                              int fd, const std::string& host,
                                                              Clock::time_point deadline) {
  SSL* ssl = SSL_new(ctx->get());
  BIO* bio = ssl == nullptr ? nullptr : NewSocketBio(fd);
  if (bio == nullptr) {
    SSL_free(ssl);
    return absl::InternalError(absl::StrCat("SSL_new: ", OpenSslError()));
  }
  SSL_set_bio(ssl, bio, bio);
  std::unique_ptr<TlsSocket> socket(new TlsSocket(std::move(ctx), ssl, fd));
  if (IsIpAddress(host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, host.c_str());
    SSL_set1_host(ssl, host.c_str());
  }
  SetNonBlocking(fd);
  SSL_set_connect_state(ssl);
  if (absl::Status s = Handshake(ssl, fd, deadline, nullptr); !s.ok()) {
    return absl::UnavailableError(absl::StrCat("https://", host, ": ", s.message()));
  }
  return socket;
}

TlsSocket::~TlsSocket() { SSL_free(ssl_); }

TlsIoResult TlsSocket::Result(int rc) {
  TlsIoResult r;
  if (rc > 0) {
    r.n = rc;
    return r;
  }
  const int err = SSL_get_error(ssl_, rc);
  switch (err) {
    case SSL_ERROR_WANT_READ:
      r.wait = POLLIN;
      break;
    case SSL_ERROR_WANT_WRITE:
      r.wait = POLLOUT;
      break;
    case SSL_ERROR_ZERO_RETURN:
      r.n = 0;
      break;
    case SSL_ERROR_SYSCALL:
      r.n = -1;
      r.error = errno != 0 ? strerror(errno) : "connection closed";
      break;
    default:
      r.n = -1;
      r.error = OpenSslError();
  }
  ERR_clear_error();
  return r;
}

TlsIoResult TlsSocket::Read(char* buf, size_t len) {
  std::lock_guard<std::mutex> lock(mu_);
  ERR_clear_error();
  errno = 0;
  return Result(SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(len, 1 << 30))));
}

TlsIoResult TlsSocket::Write(const char* buf, size_t len) {
  std::lock_guard<std::mutex> lock(mu_);
  ERR_clear_error();
  errno = 0;
  TlsIoResult r = Result(SSL_write(ssl_, buf, static_cast<int>(std::min<size_t>(len, 1 << 30))));
  if (r.n == 0 && r.wait == 0) {
    r.n = -1;
    r.error = "connection closed";
  }
  return r;
}

bool TlsSocket::Pending() {
  std::lock_guard<std::mutex> lock(mu_);
  return SSL_has_pending(ssl_) == 1 || SSL_pending(ssl_) > 0;
}

void TlsSocket::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

}  // namespace stratus
