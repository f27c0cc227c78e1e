// The console's browser sessions: who is logged in, with which API key, and their CSRF tokens.
//
// A session is created by logging in with an API key (verified against the platform's key
// store, the same keys and scopes as the gRPC API) or with the one-time login token that
// `stratus up` prints in its console link (it stands for the operator's admin key). The
// session id travels in an HttpOnly, SameSite=Strict cookie; every state-changing request must
// also carry the session's CSRF token in a header, which a cross-site page cannot read.
// Each lookup verifies the session's key again, so a revoked key ends its sessions within the
// key store's refresh interval. Sessions live in memory: a restarted console asks the user to
// log in again (it is stateless otherwise; several replicas need sticky sessions or key login).
//
// Thread-safe.
#ifndef STRATUS_SERVICES_CONSOLE_SESSIONS_H_
#define STRATUS_SERVICES_CONSOLE_SESSIONS_H_

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/auth/key_store.h"

namespace stratus::console {

struct Session {
  std::string id;          // the cookie's value (43 random characters, 256 bits)
  std::string csrf_token;  // 22 random characters (128 bits), sent back in X-CSRF-Token
  std::string api_key;     // sent on the session's gRPC calls; never shown to the browser
  auth::KeyRecord key;     // the key's id, name and scopes
};

class SessionStore {
 public:
  struct Options {
    const auth::KeyStore* keys = nullptr;          // required, not owned
    std::chrono::seconds idle_timeout{12 * 3600};  // a session unused this long ends
    size_t max_sessions = 10000;                   // the least recently used goes beyond
    // The one-time login token of the console link and the key it logs in with ("" for none).
    std::string login_token;
    std::string login_key;
  };
  explicit SessionStore(const Options& options);

  // A new session for `api_key`; UNAUTHENTICATED (with the key store's reason) when the key is
  // malformed, unknown or revoked, UNAVAILABLE while the keys are not loaded yet.
  absl::StatusOr<Session> LogIn(const std::string& api_key);
  // A new session for the operator's key when `token` is the login token and it has not been
  // used; UNAUTHENTICATED otherwise. The token works once.
  absl::StatusOr<Session> LogInWithToken(const std::string& token);
  // The session with this id when it exists, is not idle too long and its key is still valid
  // (refreshes its idle time); nullopt otherwise (an invalid session is removed).
  std::optional<Session> Find(const std::string& id);
  void LogOut(const std::string& id);

 private:
  struct Entry {
    Session session;
    std::chrono::steady_clock::time_point last_used;
  };
  absl::StatusOr<Session> Add(const std::string& api_key, const auth::KeyRecord& key);

  const Options options_;
  std::mutex mu_;
  bool token_used_ = false;
  std::map<std::string, Entry> sessions_;
};

}  // namespace stratus::console

#endif  // STRATUS_SERVICES_CONSOLE_SESSIONS_H_
