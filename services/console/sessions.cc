#include "services/console/sessions.h"

#include <algorithm>
#include <vector>

#include "common/auth/api_key.h"
#include "common/aws/sigv4.h"

namespace stratus::console {

SessionStore::SessionStore(const Options& options) : options_(options) {}

absl::StatusOr<Session> SessionStore::Add(const std::string& api_key, const auth::KeyRecord& key) {
  absl::StatusOr<std::string> id = auth::RandomToken(43);
  if (!id.ok()) return id.status();
  absl::StatusOr<std::string> csrf = auth::RandomToken(22);
  if (!csrf.ok()) return csrf.status();
  Session s{*id, *csrf, api_key, key};
  std::lock_guard<std::mutex> lock(mu_);
  if (sessions_.size() >= options_.max_sessions) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](auto& a, auto& b) {
      return a.second.last_used < b.second.last_used;
    });
    sessions_.erase(oldest);
  }
  sessions_[s.id] = {s, std::chrono::steady_clock::now()};
  return s;
}

absl::StatusOr<Session> SessionStore::LogIn(const std::string& api_key) {
  absl::StatusOr<auth::KeyRecord> key = options_.keys->Verify(api_key);
  if (!key.ok()) return key.status();
  return Add(api_key, *key);
}

absl::StatusOr<Session> SessionStore::LogInWithToken(const std::string& token) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string& want = options_.login_token;
    const bool match = !want.empty() && aws::ConstantTimeEquals(token, want);
    if (!match) return absl::UnauthenticatedError("this login link is not valid");
    if (token_used_) {
      return absl::UnauthenticatedError(
          "this login link has been used already; log in with an API key");
    }
    token_used_ = true;
  }
  return LogIn(options_.login_key);
}

std::optional<Session> SessionStore::Find(const std::string& id) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  const auto now = std::chrono::steady_clock::now();
  if (now - it->second.last_used > options_.idle_timeout) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.last_used = now;
  Session s = it->second.session;
  lock.unlock();
  // The key may have been revoked since; UNAVAILABLE (keys not readable) keeps the session.
  absl::StatusOr<auth::KeyRecord> key = options_.keys->Verify(s.api_key);
  if (!key.ok() && absl::IsUnauthenticated(key.status())) {
    LogOut(id);
    return std::nullopt;
  }
  if (key.ok()) s.key = *key;
  return s;
}

void SessionStore::LogOut(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.erase(id);
}

}  // namespace stratus::console
