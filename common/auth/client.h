// Client side of API keys and TLS: every gRPC channel of the project is made here; it sends
// `authorization: Bearer <key>` on every call.
//
// A process has one default key, set by its main.cc (services: --api-key; the stratus tool:
// ApiKeyFromEnvironment()) and sent by every channel from MakeChannel() (common/grpc_channel.h)
// unless it names another key. An empty key sends
// nothing, and the server answers UNAUTHENTICATED saying the key is missing.
//
// TLS: a process also has one default client TLS setting (services: --tls-ca with their own
// --tls-cert/--tls-key as client certificate; the stratus tool: ClientTlsFromEnvironment()).
// Without a CA, channels are plain text as before; with one, every channel from CreateChannelWithKey
// (and DefaultChannelCredentials()) is TLS trusting only that CA, verifying the target's host
// name or IP address against the server certificate, and presenting the client certificate
// when one is set (for servers that require mTLS).
#ifndef STRATUS_COMMON_AUTH_CLIENT_H_
#define STRATUS_COMMON_AUTH_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "common/tls.h"

namespace stratus::auth {

// The credentials-file profile and key under which `stratus up` keeps the admin key.
inline constexpr char kCredentialsProfile[] = "stratus";
inline constexpr char kCredentialsKey[] = "stratus_api_key";

// Thread-safe; channels created before a change keep the key they were created with.
void SetDefaultApiKey(const std::string& key);
// INVALID_ARGUMENT, naming `source` and the position, when `key` has a character that cannot
// travel in a gRPC header (a space, a control character such as a newline, non-ASCII); OK for
// "" (no key). gRPC would abort the process on such a header instead of failing the call.
absl::Status CheckApiKey(const std::string& key, const std::string& source);
std::string DefaultApiKey();

// Sets the default client TLS from `files.ca` (the roots; "" turns TLS off) and, optionally,
// `files.cert`/`files.key` (client certificate). INVALID_ARGUMENT naming the file when one is
// unreadable, not PEM or expired; the default is then left as it was. Thread-safe; channels
// made before keep their credentials.
absl::Status SetDefaultClientTls(const TlsFiles& files);
// The credentials CreateChannel* use now: SSL with the default roots, or insecure.
std::shared_ptr<grpc::ChannelCredentials> DefaultChannelCredentials();
// The CA file of the default client TLS ("" when plain text).
std::string DefaultClientTlsCa();

// The client TLS of the stratus tool: CA $STRATUS_TLS_CA, else the CA of a `stratus up --tls`
// run from here (<$STRATUS_DATA_DIR or var>/tls/ca.pem, while <that folder>/tls/enabled says
// TLS is on); client certificate $STRATUS_TLS_CLIENT_CERT and key $STRATUS_TLS_CLIENT_KEY.
// The files found, without reading them ({} when none: plain text).
TlsFiles ClientTlsFromEnvironment();

// A channel (plain text or TLS as set above, or `credentials` when given) to `target` sending
// `api_key` ("" : none). Services, tools and clients call common/grpc_channel.h's MakeChannel(),
// which adds the project's channel arguments; tests of authentication call this directly.
// Every call started while a trace is current on the calling thread (common/trace.h; servers
// make one current for each call and request they serve) sends `traceparent:
// 00-<trace id>-<current span id>-<flags>`, unless its ClientContext has one already; outside a
// trace nothing is sent (the callee starts a trace). See docs/observability.md.
std::shared_ptr<grpc::Channel> CreateChannelWithKey(const std::string& target,
                                                    const std::string& api_key,
                                                    const grpc::ChannelArguments& args = {},
                                                    std::shared_ptr<grpc::ChannelCredentials>
                                                        credentials = nullptr);

// The key of the stratus tool: $STRATUS_API_KEY, else stratus_api_key of profile [stratus] in
// $STRATUS_CREDENTIALS_FILE, else in $STRATUS_DATA_DIR/credentials (default var/credentials,
// where `stratus up` writes it); "" when none. Leading and trailing white space (a newline left
// by `$(cat file)`-style set-ups) is dropped. For main.cc.
std::string ApiKeyFromEnvironment();

}  // namespace stratus::auth

#endif  // STRATUS_COMMON_AUTH_CLIENT_H_
