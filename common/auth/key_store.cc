
#include "common/auth/key_store.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/logging.h"
#include "common/status.h"

namespace stratus::auth {
namespace {

std::string JoinScopes(const std::vector<Scope>& scopes) {
  std::vector<std::string> parts;
  for (const Scope& s : scopes) parts.push_back(ScopeToString(s));
  return absl::StrJoin(parts, ",");
}

absl::StatusOr<std::vector<Scope>> SplitScopes(absl::string_view text) {
  std::vector<std::string> parts = absl::StrSplit(text, ',', absl::SkipWhitespace());
  for (std::string& p : parts) p = std::string(absl::StripAsciiWhitespace(p));
  return ParseScopes(parts);
}

absl::StatusOr<std::map<std::string, KeyRecord, std::less<>>> ReadKeysFile(
    const std::string& path) {
  std::error_code ec;
  std::ifstream in(path);
  if (!std::filesystem::is_regular_file(path, ec) || !in) {
    return absl::NotFoundError(absl::StrCat("cannot read API keys file ", path));
  }
  std::map<std::string, KeyRecord, std::less<>> out;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    absl::string_view t = absl::StripAsciiWhitespace(line);
    if (t.empty() || t[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(t, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", number, ": ", why));
    };
    if (f.size() < 3) return bad("expected <id> <sha256-hex> <scopes> [name]");
    KeyRecord r;
    r.id = f[0];
    absl::StatusOr<KeyHash> hash = HashFromHex(f[1]);
    if (!hash.ok()) return bad(hash.status().message());
    r.hash = *hash;
    absl::StatusOr<std::vector<Scope>> scopes = SplitScopes(f[2]);
    if (!scopes.ok()) return bad(scopes.status().message());
    r.scopes = *std::move(scopes);
    for (size_t i = 3; i < f.size(); ++i) absl::StrAppend(&r.name, i > 3 ? " " : "", f[i]);
    out[r.id] = std::move(r);
  }
  return out;
}

KeyRecord RowToRecord(const pqxx::row& row) {
  KeyRecord r;
  r.id = row[0].as<std::string>();
  r.name = row[1].as<std::string>();
  if (auto h = HashFromHex(row[2].as<std::string>()); h.ok()) r.hash = *h;
  if (auto s = SplitScopes(row[3].as<std::string>()); s.ok()) r.scopes = *std::move(s);
  r.create_time = absl::FromUnixMicros(static_cast<int64_t>(row[4].as<double>() * 1e6));
  if (!row[5].is_null()) {
    r.revoke_time = absl::FromUnixMicros(static_cast<int64_t>(row[5].as<double>() * 1e6));
  }
  return r;
}

constexpr char kSelect[] =
    "SELECT id, name, key_hash, scopes, extract(epoch FROM created_at)::float8, "
    "extract(epoch FROM revoked_at)::float8 FROM auth_api_keys";

}  // namespace

const std::vector<Migration>& Migrations() {
  static const auto* kMigrations = new std::vector<Migration>{
      {1, "API keys",
       R"sql(
CREATE TABLE auth_api_keys (
  id          text PRIMARY KEY,             -- the public part of stk_<id>_<secret>
  name        text NOT NULL DEFAULT '',
  key_hash    text NOT NULL,                -- SHA-256 of the whole key, hex
  scopes      text NOT NULL,                -- "<service>:<level>" joined by commas
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
)sql"},
  };
  return *kMigrations;
}

absl::StatusOr<std::string> KeysFileLine(const std::string& key, const std::vector<Scope>& scopes,
                                         const std::string& name) {
  absl::StatusOr<std::string> id = KeyId(key);
  if (!id.ok()) return absl::InvalidArgumentError(id.status().message());
  if (scopes.empty()) return absl::InvalidArgumentError("a key needs at least one scope");
  if (name.find_first_of("\r\n") != std::string::npos) {
    return absl::InvalidArgumentError("a key name must be one line");
  }
  std::string line = absl::StrCat(*id, " ", HashToHex(HashKey(key)), " ", JoinScopes(scopes));
  if (!name.empty()) absl::StrAppend(&line, " ", name);
  return line;
}

absl::StatusOr<std::unique_ptr<KeyStore>> KeyStore::Create(const Options& options) {
  if (options.refresh_interval <= std::chrono::milliseconds(0)) {
    return absl::InvalidArgumentError("API keys refresh interval must be positive");
  }
  auto store = std::unique_ptr<KeyStore>(new KeyStore(options));
  if (!options.database_url.empty()) {
    absl::StatusOr<std::unique_ptr<Database>> db =
        Database::Create({.url = options.database_url, .pool_size = 2});
    if (!db.ok()) return db.status();
    store->db_ = *std::move(db);
  }
  if (store->db_ || !options.keys_file.empty()) {
    // The first read happens here, so that a service does not refuse good keys in its first
    // moments. A keys file that cannot be read is bad configuration; a database that is down
    // is retried by the refresh thread (calls meanwhile get UNAVAILABLE).
    (void)store->Refresh();
    bool file_loaded;
    {
      std::lock_guard<std::mutex> lock(store->mu_);
      file_loaded = store->file_loaded_;
    }
    if (!options.keys_file.empty() && !file_loaded) {
      return ReadKeysFile(options.keys_file).status();
    }
    store->thread_ = std::thread([s = store.get()] { s->RefreshLoop(); });
  }
  return store;
}

KeyStore::~KeyStore() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

absl::Status KeyStore::AddKey(const std::string& key, const std::vector<Scope>& scopes,
                              const std::string& name) {
  absl::StatusOr<std::string> id = KeyId(key);
  if (!id.ok()) return absl::InvalidArgumentError(id.status().message());
  if (scopes.empty()) return absl::InvalidArgumentError("a key needs at least one scope");
  KeyRecord r{*id, name, HashKey(key), scopes};
  std::lock_guard<std::mutex> lock(mu_);
  memory_[*id] = std::move(r);
  return absl::OkStatus();
}

absl::StatusOr<KeyRecord> KeyStore::Verify(absl::string_view key) const {
  absl::StatusOr<std::string> id = KeyId(key);
  if (!id.ok()) return id.status();
  const KeyHash hash = HashKey(key);
  std::lock_guard<std::mutex> lock(mu_);
  for (const KeyMap* m : {&memory_, &table_, &file_}) {
    auto it = m->find(*id);
    if (it == m->end() || !HashEquals(it->second.hash, hash)) continue;
    if (it->second.revoke_time.has_value()) {
      return absl::UnauthenticatedError(absl::StrCat("API key ", *id, " was revoked"));
    }
    return it->second;
  }
  if (db_ != nullptr && !db_loaded_) {
    return absl::UnavailableError(absl::StrCat("API keys not loaded yet (the keys table is not "
                                               "reachable)",
                                               last_error_.ok() ? "" : ": ", last_error_.message()));
  }
  return absl::UnauthenticatedError("unknown API key");
}

absl::Status KeyStore::Loaded() const {
  std::lock_guard<std::mutex> lock(mu_);
  if ((db_ == nullptr || db_loaded_) && (options_.keys_file.empty() || file_loaded_)) {
    return absl::OkStatus();
  }
  return absl::UnavailableError(
      absl::StrCat("API keys not loaded yet", last_error_.ok() ? "" : ": ", last_error_.message()));
}

absl::Status KeyStore::EnsureSchema() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (schema_ready_) return absl::OkStatus();
  }
  STRATUS_RETURN_IF_ERROR(db_->Migrate("auth", Migrations()));
  std::lock_guard<std::mutex> lock(mu_);
  schema_ready_ = true;
  return absl::OkStatus();
}

absl::Status KeyStore::Refresh() {
  absl::Status result = absl::OkStatus();
  if (db_) {
    absl::Status s = EnsureSchema();
    absl::StatusOr<KeyMap> keys = absl::UnavailableError("not read");
    if (!s.ok()) {
      keys = s;
    } else {
      keys = db_->Query<KeyMap>([](pqxx::work& tx) -> absl::StatusOr<KeyMap> {
        KeyMap out;
        for (const pqxx::row& row : tx.exec(kSelect)) {
          KeyRecord r = RowToRecord(row);
          if (r.scopes.empty()) continue;  // unparseable: never grants anything
          out[r.id] = std::move(r);
        }
        return out;
      });
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (keys.ok()) {
      table_ = *std::move(keys);
      db_loaded_ = true;
    } else {
      result = keys.status();
    }
  }
  if (!options_.keys_file.empty()) {
    absl::StatusOr<KeyMap> keys = ReadKeysFile(options_.keys_file);
    std::lock_guard<std::mutex> lock(mu_);
    if (keys.ok()) {
      file_ = *std::move(keys);
      file_loaded_ = true;
    } else if (result.ok()) {
      result = keys.status();
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  last_error_ = result;
  return result;
}

void KeyStore::RefreshLoop() {
  absl::Status previous = absl::OkStatus();
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    absl::Status s = Refresh();
    if (s.ok() != previous.ok() || s.message() != previous.message()) {
      if (s.ok()) {
        SLOG(INFO) << "API keys loaded";
      } else {
        SLOG(WARNING) << "cannot refresh API keys; the last ones read stay in force"
                      << Kv("error", s.message());
      }
      previous = s;
    }
    lock.lock();
    cv_.wait_for(lock, options_.refresh_interval, [this] { return stopping_; });
  }
}

absl::StatusOr<KeyStore::Created> KeyStore::CreateKey(const std::string& name,
                                                      const std::vector<Scope>& scopes) {
  if (!db_) return absl::FailedPreconditionError("no API keys database configured");
  if (scopes.empty()) return absl::InvalidArgumentError("a key needs at least one scope");
  STRATUS_RETURN_IF_ERROR(EnsureSchema());
  absl::StatusOr<NewKey> fresh = GenerateKey();
  if (!fresh.ok()) return fresh.status();
  const std::string hash = HashToHex(HashKey(fresh->key));
  const std::string joined = JoinScopes(scopes);
  absl::StatusOr<KeyRecord> record =
      db_->Query<KeyRecord>([&](pqxx::work& tx) -> absl::StatusOr<KeyRecord> {
        tx.exec_params(
            "INSERT INTO auth_api_keys (id, name, key_hash, scopes) VALUES ($1, $2, $3, $4)",
            fresh->id, name, hash, joined);
        pqxx::result r = tx.exec_params(absl::StrCat(kSelect, " WHERE id = $1"), fresh->id);
        return RowToRecord(r[0]);
      });
  if (!record.ok()) return record.status();
  (void)Refresh();
  return Created{*std::move(record), fresh->key};
}

absl::StatusOr<std::vector<KeyRecord>> KeyStore::ListKeys() {
  if (!db_) return absl::FailedPreconditionError("no API keys database configured");
  STRATUS_RETURN_IF_ERROR(EnsureSchema());
  return db_->Query<std::vector<KeyRecord>>(
      [](pqxx::work& tx) -> absl::StatusOr<std::vector<KeyRecord>> {
        std::vector<KeyRecord> out;
        for (const pqxx::row& row :
             tx.exec(absl::StrCat(kSelect, " ORDER BY created_at DESC, id"))) {
          out.push_back(RowToRecord(row));
        }
        return out;
      });
}

absl::Status KeyStore::RevokeKey(const std::string& id) {
  if (!db_) return absl::FailedPreconditionError("no API keys database configured");
  STRATUS_RETURN_IF_ERROR(EnsureSchema());
  STRATUS_RETURN_IF_ERROR(db_->Transact([&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = tx.exec_params(
        "UPDATE auth_api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", id);
    if (r.affected_rows() == 0) {
      return absl::NotFoundError(absl::StrCat("no valid API key with id '", id, "'"));
    }
    return absl::OkStatus();
  }));
  return Refresh();
}

}  // namespace stratus::auth
