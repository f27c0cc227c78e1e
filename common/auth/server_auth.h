// Server-side API key checks for a gRPC port, as ServiceHost uses them.
//
// The returned credentials listen in plain text, or with TLS when `tls_cert_pem` is set (the
// server presents that certificate and key), and install a gRPC auth metadata processor that
// runs before any handler, interceptor or reflection, for every call:
//   - grpc.health.v1 passes without a key (and without a client certificate);
//   - with `tls_client_ca_pem` (mTLS), a client certificate is requested and, when presented,
//     verified against that CA during the handshake (a wrong one fails the handshake); every
//     other call without one is refused with UNAUTHENTICATED "client certificate required",
//     reason client_cert;
//   - otherwise `authorization: Bearer <key>` must be present (UNAUTHENTICATED, "missing API
//     key ..." when not, "authorization metadata must be 'Bearer <key>'" when another form),
//     well formed and known and not revoked to the store (UNAUTHENTICATED with that reason;
//     UNAVAILABLE while the keys table has not been read yet),
//     and its scopes must grant what RequiredAccess() asks for the method on this service
//     (PERMISSION_DENIED naming the scope needed).
// The authorization entry is consumed (handlers never see the key); the key's id is added to
// the auth context as property "stratus_key_id" (gRPC passes the connection's context, so it is
// added once per connection and key id: the context lists the key ids used on the connection,
// and does not grow with its calls). Each refusal increments
// stratus_auth_refusals_total{service,reason} (reason: missing, malformed, unknown, revoked,
// scope, unavailable, client_cert) and is logged once, with the method, reason and key id, never
// the key (at most one line per reason per second; the lines say how many were left out).
#ifndef STRATUS_COMMON_AUTH_SERVER_AUTH_H_
#define STRATUS_COMMON_AUTH_SERVER_AUTH_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "common/auth/key_store.h"
#include "common/metrics.h"

namespace stratus::auth {

inline constexpr char kKeyIdProperty[] = "stratus_key_id";

struct ServerAuthOptions {
  std::string service_name;               // matched against the scopes' service part
  std::shared_ptr<KeyStore> keys;         // required
  metrics::Registry* registry = nullptr;  // required; must outlive the server
  // TLS (PEM texts, not paths; see common/tls.h for checking the files): "" for plain text.
  std::string tls_cert_pem;
  std::string tls_key_pem;
  std::string tls_client_ca_pem;  // "" for no client certificates (no mTLS)
};

// Server credentials (plain text or TLS) that check keys as described above.
std::shared_ptr<grpc::ServerCredentials> AuthenticatingServerCredentials(
    const ServerAuthOptions& options);

// The check itself, for tests: `method` is "/package.Service/Method", `authorization` the
// metadata value or nullopt when absent. OK, UNAUTHENTICATED, PERMISSION_DENIED or UNAVAILABLE; `reason`
// gets the refusal reason label, `key_id` the key's id when it was recognised.
absl::Status CheckCall(const KeyStore& keys, const std::string& service_name,
                       absl::string_view method, std::optional<absl::string_view> authorization,
                       std::string* reason, std::string* key_id);

}  // namespace stratus::auth

#endif  // STRATUS_COMMON_AUTH_SERVER_AUTH_H_
