// The API keys a service accepts, and their management in PostgreSQL.
//
// Sources, any combination:
//   - the `auth_api_keys` table (`database_url`): the keys are re-read every
//     `refresh_interval`, so a key created or revoked by any replica (or `stratus keys`) takes
//     effect everywhere within that interval. The table is created by Migrations() on first
//     contact. While the database is unreachable the last keys read stay in force.
//   - a static file (`keys_file`), for services deployed without database access; re-read
//     every `refresh_interval` too. One key a line: `<id> <sha256-hex> <scope>[,<scope>...]
//     [name]`; `#` starts a comment. `stratus keys hash KEY` prints such a line. Replace the
//     file atomically (write another, rename it over), as the kubelet does for a Secret.
//   - keys added in memory with AddKey() (tests, embedding).
// Verify() checks a presented key against all of them: the id selects the record, then the
// SHA-256 of the key is compared with the stored hash in constant time. Keys are stored only
// as hashes, never in clear.
//
// Thread-safe. The refresh thread stops in the destructor.
#ifndef STRATUS_COMMON_AUTH_KEY_STORE_H_
#define STRATUS_COMMON_AUTH_KEY_STORE_H_

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/auth/api_key.h"
#include "common/db.h"

namespace stratus::auth {

struct KeyRecord {
  std::string id;
  std::string name;
  KeyHash hash{};
  std::vector<Scope> scopes;
  absl::Time create_time = absl::InfinitePast();
  std::optional<absl::Time> revoke_time;  // set only in listings
};

// The keys table, as migrations for Database::Migrate("auth", ...).
const std::vector<Migration>& Migrations();

// The keys-file line accepting `key` with `scopes` ("<id> <sha256-hex> <scopes> [name]");
// INVALID_ARGUMENT for a malformed key, no scopes or a name with a line break.
absl::StatusOr<std::string> KeysFileLine(const std::string& key, const std::vector<Scope>& scopes,
                                         const std::string& name = "");

class KeyStore {
 public:
  struct Options {
    std::string database_url;  // "": no table
    std::string keys_file;     // "": no file
    std::chrono::milliseconds refresh_interval{2000};
  };

  // Reads the table and file once, then starts the refresh thread when either is configured
  // (a database that is down at start-up is retried there). INVALID_ARGUMENT for a bad
  // interval or a malformed keys file, NOT_FOUND for a keys file that cannot be read.
  static absl::StatusOr<std::unique_ptr<KeyStore>> Create(const Options& options);
  ~KeyStore();

  // Accepts `key` (the whole stk_... key) with `scopes` from now on, in memory only.
  absl::Status AddKey(const std::string& key, const std::vector<Scope>& scopes,
                      const std::string& name = "");

  // The record of `key`; UNAUTHENTICATED with the reason (malformed, unknown or revoked), or
  // UNAVAILABLE for a key not found while the table has not been read yet.
  absl::StatusOr<KeyRecord> Verify(absl::string_view key) const;

  // OK once every configured source has been read at least once; else UNAVAILABLE with the
  // last error. For ServiceHost's readiness.
  absl::Status Loaded() const;
  // Reads the table and file now (the refresh thread calls this).
  absl::Status Refresh();

  // Key management in the table; FAILED_PRECONDITION without a database. Each refreshes this
  // store afterwards, so this replica sees the change at once.
  bool has_database() const { return db_ != nullptr; }
  struct Created {
    KeyRecord record;
    std::string key;  // shown once
  };
  absl::StatusOr<Created> CreateKey(const std::string& name, const std::vector<Scope>& scopes);
  absl::StatusOr<std::vector<KeyRecord>> ListKeys();
  // NOT_FOUND when no valid key has this id.
  absl::Status RevokeKey(const std::string& id);

 private:
  explicit KeyStore(const Options& options) : options_(options) {}
  absl::Status EnsureSchema();
  void RefreshLoop();

  using KeyMap = std::map<std::string, KeyRecord, std::less<>>;
  Options options_;
  std::unique_ptr<Database> db_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool schema_ready_ ABSL_GUARDED_BY(mu_) = false;
  bool db_loaded_ ABSL_GUARDED_BY(mu_) = false;
  bool file_loaded_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status last_error_ ABSL_GUARDED_BY(mu_) = absl::OkStatus();
  KeyMap memory_ ABSL_GUARDED_BY(mu_);  // AddKey()
  KeyMap table_ ABSL_GUARDED_BY(mu_);   // last read of the table
  KeyMap file_ ABSL_GUARDED_BY(mu_);    // last read of the file
  std::thread thread_;
};

}  // namespace stratus::auth

#endif  // STRATUS_COMMON_AUTH_KEY_STORE_H_
