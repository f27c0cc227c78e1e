// API keys for the gRPC endpoints: their format, hashing, scopes, and which scope each method
// needs.
//
// A key is `stk_<id>_<secret>`: `id` is 12 characters of [a-z2-7] (public: listings and
// revocation name it), `secret` 32 characters of [A-Za-z0-9] (192 bits from getrandom(2)).
// Only SHA-256 of the whole key is stored; verification compares hashes in constant time.
//
// Scopes are "<service>:<level>": `service` a short service name ("detector", ...) or "*",
// `level` "read" or "admin"; admin includes read. "read" and "admin" alone stand for "*:read"
// and "*:admin".
//
// Which level a method needs is one table, RequiredAccess(), keyed by the full gRPC method
// name: the methods listed there as read change nothing (Detect, List*, Search*, ...);
// everything else, including methods not listed, needs admin. grpc.health.v1 is open (probes
// carry no key); server reflection needs read; stratus.v1.KeyService needs "*:admin".
#ifndef STRATUS_COMMON_AUTH_API_KEY_H_
#define STRATUS_COMMON_AUTH_API_KEY_H_

#include <array>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace stratus::auth {

enum class Level { kRead = 1, kAdmin = 2 };

struct Scope {
  std::string service;  // short name or "*"
  Level level = Level::kRead;
  bool operator==(const Scope& o) const { return service == o.service && level == o.level; }
};

using KeyHash = std::array<unsigned char, 32>;  // SHA-256

// A fresh key and its parts. INTERNAL if no randomness is available.
struct NewKey {
  std::string id;
  std::string key;  // the whole key, stk_<id>_<secret>
};
absl::StatusOr<NewKey> GenerateKey();
// `chars` random characters of [A-Za-z0-9] (about 5.95 bits each), for session ids, CSRF and
// login tokens. INTERNAL if no randomness is available.
absl::StatusOr<std::string> RandomToken(size_t chars);

// The id of a well-formed key; UNAUTHENTICATED ("malformed API key ...") otherwise.
absl::StatusOr<std::string> KeyId(absl::string_view key);

KeyHash HashKey(absl::string_view key);
std::string HashToHex(const KeyHash& hash);
// INVALID_ARGUMENT unless 64 hexadecimal digits.
absl::StatusOr<KeyHash> HashFromHex(absl::string_view hex);
// Constant-time equality.
bool HashEquals(const KeyHash& a, const KeyHash& b);

// Parses one scope ("detector:read", "*:admin", "admin"); INVALID_ARGUMENT with the reason.
absl::StatusOr<Scope> ParseScope(absl::string_view text);
// Each of `texts`; INVALID_ARGUMENT when one is malformed or the list is empty.
absl::StatusOr<std::vector<Scope>> ParseScopes(const std::vector<std::string>& texts);
std::string ScopeToString(const Scope& scope);

// What a method needs.
enum class Access {
  kOpen,         // no key (grpc.health.v1)
  kRead,         // a read or admin scope for the service
  kAdmin,        // an admin scope for the service
  kGlobalAdmin,  // "*:admin" (key management)
};
// `method` is the HTTP/2 path, "/package.Service/Method".
Access RequiredAccess(absl::string_view method);
const char* AccessName(Access access);

// True when `scopes` grant `access` on the service named `service`.
bool Allows(const std::vector<Scope>& scopes, const std::string& service, Access access);

}  // namespace stratus::auth

#endif  // STRATUS_COMMON_AUTH_API_KEY_H_
