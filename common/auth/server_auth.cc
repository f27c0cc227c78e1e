#include "common/auth/server_auth.h"

#include <grpc/grpc_security.h>

#include <chrono>
#include <map>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"

namespace stratus::auth {
namespace {

absl::string_view SliceView(const grpc_slice& s) {
  return absl::string_view(reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(s)),
                           GRPC_SLICE_LENGTH(s));
}

// The processor's state: the store, the refusal counter and the log limiter.
class Authorizer {
 public:
  explicit Authorizer(const ServerAuthOptions& options)
      : keys_(options.keys),
        service_(options.service_name),
        require_client_cert_(!options.tls_client_ca_pem.empty()) {
    refusals_ = &metrics::BuildCounter()
                     .Name("stratus_auth_refusals_total")
                     .Help("gRPC calls refused for their API key, by service and reason.")
                     .Register(*options.registry);
  }

  void Process(grpc_auth_context* context, const grpc_metadata* md, size_t num_md,
               grpc_process_auth_metadata_done_cb cb, void* user_data) {
    absl::string_view method;
    std::optional<absl::string_view> authorization;
    const grpc_metadata* auth_entry = nullptr;
    for (size_t i = 0; i < num_md; ++i) {
      absl::string_view key = SliceView(md[i].key);
      if (key == ":path") {
        method = SliceView(md[i].value);
      } else if (key == "authorization") {
        authorization = SliceView(md[i].value);
        auth_entry = &md[i];
      }
    }
    std::string reason, key_id;
    absl::Status s = absl::OkStatus();
    if (require_client_cert_ && RequiredAccess(method) != Access::kOpen &&
        !HasPeerCertificate(context)) {
      reason = "client_cert";
      s = absl::UnauthenticatedError(
          "client certificate required (mTLS): this server verifies callers' certificates "
          "(the stratus tool sends STRATUS_TLS_CLIENT_CERT and STRATUS_TLS_CLIENT_KEY)");
    } else {
      s = CheckCall(*keys_, service_, method, authorization, &reason, &key_id);
    }
    if (s.ok()) {
      // gRPC 1.51 hands the processor the connection's auth context, not one per call: a
      // property added on every call stays for the connection's lifetime (a long-lived channel
      // grew by ~80 bytes a call in stratus-soak). Add each key id once per connection.
      if (!key_id.empty() && !HasProperty(context, kKeyIdProperty, key_id)) {
        grpc_auth_context_add_cstring_property(context, kKeyIdProperty, key_id.c_str());
      }
      cb(user_data, auth_entry, auth_entry ? 1 : 0, nullptr, 0, GRPC_STATUS_OK, nullptr);
      return;
    }
    Refused(method, reason, key_id);
    const std::string message(s.message());
    cb(user_data, nullptr, 0, nullptr, 0, static_cast<grpc_status_code>(s.code()), message.c_str());
  }

 private:
  // A certificate the handshake verified (GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY fails
  // the handshake for one that does not verify, so one present is a verified one).
  static bool HasProperty(const grpc_auth_context* context, const char* name,
                          absl::string_view value) {
    grpc_auth_property_iterator it = grpc_auth_context_find_properties_by_name(context, name);
    while (const grpc_auth_property* p = grpc_auth_property_iterator_next(&it)) {
      if (absl::string_view(p->value, p->value_length) == value) return true;
    }
    return false;
  }

  static bool HasPeerCertificate(const grpc_auth_context* context) {
    grpc_auth_property_iterator it =
        grpc_auth_context_find_properties_by_name(context, GRPC_X509_PEM_CERT_PROPERTY_NAME);
    return grpc_auth_property_iterator_next(&it) != nullptr;
  }

  void Refused(absl::string_view method, const std::string& reason, const std::string& key_id) {
    refusals_->Add({{"service", service_}, {"reason", reason}}).Increment();
    int suppressed = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto now = std::chrono::steady_clock::now();
      Limit& l = limits_[reason];
      if (now - l.last < std::chrono::seconds(1)) {
        l.suppressed++;
        return;
      }
      l.last = now;
      suppressed = l.suppressed;
      l.suppressed = 0;
    }
    LogLine line(LogLevel::kWarning, __FILE__, __LINE__);
    line << "refused RPC" << Kv("service", service_) << Kv("method", method)
         << Kv("reason", reason);
    if (!key_id.empty()) line << Kv("key_id", key_id);
    if (suppressed > 0) line << Kv("not_logged_before", suppressed);
  }

  struct Limit {
    std::chrono::steady_clock::time_point last{};
    int suppressed = 0;
  };
  std::shared_ptr<KeyStore> keys_;
  std::string service_;
  const bool require_client_cert_;
  metrics::Family<metrics::Counter>* refusals_;
  std::mutex mu_;
  std::map<std::string, Limit> limits_;
};

void ProcessThunk(void* state, grpc_auth_context* context, const grpc_metadata* md, size_t num_md,
                  grpc_process_auth_metadata_done_cb cb, void* user_data) {
  (*static_cast<std::shared_ptr<Authorizer>*>(state))->Process(context, md, num_md, cb, user_data);
}

void DestroyThunk(void* state) { delete static_cast<std::shared_ptr<Authorizer>*>(state); }

// grpc::InsecureServerCredentials() refuses auth metadata processors; the core's insecure
// credentials run them like any other, so this adds the port through the core API (and the
// core's SSL credentials for TLS, with the same processor).
class AuthenticatingCredentials final : public grpc::ServerCredentials {
 public:
  AuthenticatingCredentials(std::shared_ptr<Authorizer> authorizer,
                            const ServerAuthOptions& options)
      : authorizer_(std::move(authorizer)),
        cert_pem_(options.tls_cert_pem),
        key_pem_(options.tls_key_pem),
        client_ca_pem_(options.tls_client_ca_pem) {}

  void SetAuthMetadataProcessor(const std::shared_ptr<grpc::AuthMetadataProcessor>&) override {
    SLOG(ERROR) << "AuthenticatingCredentials has its own auth metadata processor";
  }

 private:
  int AddPortToServer(const std::string& addr, grpc_server* server) override {
    grpc_server_credentials* creds = nullptr;
    if (cert_pem_.empty()) {
      creds = grpc_insecure_server_credentials_create();
    } else {
      grpc_ssl_pem_key_cert_pair pair{key_pem_.c_str(), cert_pem_.c_str()};
      creds = grpc_ssl_server_credentials_create_ex(
          client_ca_pem_.empty() ? nullptr : client_ca_pem_.c_str(), &pair, 1,
          client_ca_pem_.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                 : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY,
          nullptr);
      if (creds == nullptr) return 0;
    }
    grpc_server_credentials_set_auth_metadata_processor(
        creds, {ProcessThunk, DestroyThunk, new std::shared_ptr<Authorizer>(authorizer_)});
    int port = grpc_server_add_http2_port(server, addr.c_str(), creds);
    grpc_server_credentials_release(creds);
    return port;
  }

  std::shared_ptr<Authorizer> authorizer_;
  const std::string cert_pem_, key_pem_, client_ca_pem_;
};

}  // namespace

absl::Status CheckCall(const KeyStore& keys, const std::string& service_name,
                       absl::string_view method, std::optional<absl::string_view> authorization,
                       std::string* reason, std::string* key_id) {
  const Access access = RequiredAccess(method);
  if (access == Access::kOpen) return absl::OkStatus();
  if (!authorization.has_value() || authorization->empty()) {
    *reason = "missing";
    return absl::UnauthenticatedError(
        "missing API key: send metadata 'authorization: Bearer <key>' (the stratus tool reads "
        "STRATUS_API_KEY or stratus_api_key in the credentials file `stratus up` writes)");
  }
  constexpr absl::string_view kBearer = "Bearer ";
  if (!absl::StartsWithIgnoreCase(*authorization, kBearer)) {
    *reason = "malformed";
    return absl::UnauthenticatedError("authorization metadata must be 'Bearer <key>'");
  }
  absl::string_view key = authorization->substr(kBearer.size());
  absl::StatusOr<KeyRecord> record = keys.Verify(key);
  if (!record.ok()) {
    absl::string_view m = record.status().message();
    *reason = record.status().code() == absl::StatusCode::kUnavailable ? "unavailable"
              : absl::StartsWith(m, "malformed")                       ? "malformed"
              : absl::StrContains(m, "revoked")                        ? "revoked"
                                                                       : "unknown";
    if (*reason == "revoked") {
      if (absl::StatusOr<std::string> id = KeyId(key); id.ok()) *key_id = *id;
    }
    return record.status();
  }
  *key_id = record->id;
  if (!Allows(record->scopes, service_name, access)) {
    *reason = "scope";
    std::vector<std::string> have;
    for (const Scope& s : record->scopes) have.push_back(ScopeToString(s));
    const std::string need = access == Access::kGlobalAdmin ? "*:admin"
                             : access == Access::kAdmin     ? service_name + ":admin"
                                                            : service_name + ":read";
    return absl::PermissionDeniedError(absl::StrCat("API key ", record->id, " (scopes ",
                                                    absl::StrJoin(have, ","), ") lacks ", need,
                                                    ", needed for ", method));
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::ServerCredentials> AuthenticatingServerCredentials(
    const ServerAuthOptions& options) {
  return std::make_shared<AuthenticatingCredentials>(std::make_shared<Authorizer>(options),
                                                     options);
}

}  // namespace stratus::auth
