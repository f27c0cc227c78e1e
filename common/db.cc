#include "common/db.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace stratus {
namespace {

std::string WithConnectTimeout(const std::string& url, int seconds) {
  if (url.find("connect_timeout") != std::string::npos) return url;
  bool is_uri = url.rfind("postgres", 0) == 0 && url.find("://") != std::string::npos;
  if (is_uri) {
    return absl::StrCat(url, url.find('?') == std::string::npos ? "?" : "&",
                        "connect_timeout=", seconds);
  }
  return absl::StrCat(url, " connect_timeout=", seconds);
}

bool IsConnectionError(const absl::Status& s) { return absl::IsUnavailable(s); }

}  // namespace

absl::Status Database::StatusFromException(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return absl::UnavailableError(absl::StrCat("database unavailable: ", e.what()));
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string state = sql->sqlstate();
    std::string msg = absl::StrCat("database: ", e.what());
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    if (state == "23505") return absl::AlreadyExistsError(msg);
    if (state.rfind("23", 0) == 0) return absl::FailedPreconditionError(msg);
    if (state == "40001" || state == "40P01") return absl::AbortedError(msg);
    if (state.rfind("22", 0) == 0) return absl::InvalidArgumentError(msg);
    if (state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0) return absl::UnavailableError(msg);
    return absl::InternalError(msg);
  }
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    return absl::UnavailableError(absl::StrCat("database: commit in doubt: ", e.what()));
  }
  return absl::InternalError(absl::StrCat("database: ", e.what()));
}

absl::StatusOr<std::unique_ptr<Database>> Database::Create(const Options& options) {
  if (options.url.empty()) return absl::InvalidArgumentError("database url is empty");
  if (options.pool_size < 1) return absl::InvalidArgumentError("database pool_size must be >= 1");
  return std::unique_ptr<Database>(new Database(options));
}

Database::~Database() = default;

absl::StatusOr<std::unique_ptr<pqxx::connection>> Database::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, options_.acquire_timeout,
                    [this] { return !idle_.empty() || open_ < options_.pool_size; })) {
    return absl::ResourceExhaustedError("database: no free connection in the pool");
  }
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return conn;
  }
  ++open_;
  lock.unlock();
  try {
    auto conn = std::make_unique<pqxx::connection>(
        WithConnectTimeout(options_.url, options_.connect_timeout_seconds));
    return conn;
  } catch (const std::exception& e) {
    lock.lock();
    --open_;
    cv_.notify_one();
    return absl::UnavailableError(absl::StrCat("database unavailable: ", e.what()));
  }
}

void Database::Release(std::unique_ptr<pqxx::connection> conn, bool broken) {
  std::lock_guard<std::mutex> lock(mu_);
  if (broken || !conn->is_open()) {
    --open_;
  } else {
    idle_.push_back(std::move(conn));
  }
  cv_.notify_one();
}

absl::Status Database::WithConnection(
    const std::function<absl::Status(pqxx::connection&)>& fn) {
  auto conn = Acquire();
  if (!conn.ok()) return conn.status();
  absl::Status s;
  try {
    s = fn(**conn);
  } catch (const std::exception& e) {
    s = StatusFromException(e);
  }
  Release(std::move(*conn), IsConnectionError(s));
  return s;
}

absl::Status Database::Transact(const std::function<absl::Status(pqxx::work&)>& fn) {
  return WithConnection([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    absl::Status s = fn(tx);
    if (s.ok()) {
      tx.commit();
    } else {
      tx.abort();
    }
    return s;
  });
}

absl::Status Database::Ping() {
  return Transact([](pqxx::work& tx) {
    tx.exec("SELECT 1");
    return absl::OkStatus();
  });
}

absl::Status Database::Migrate(const std::string& component,
                               const std::vector<Migration>& migrations) {
  // One lock for all components: CREATE TABLE IF NOT EXISTS races with itself.
  constexpr int64_t kMigrationLock = 0x5354524154555301;  // "STRATUS\x01"
  for (const Migration& m : migrations) {
    bool ran = false;
    absl::Status s = Transact([&](pqxx::work& tx) -> absl::Status {
      tx.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
      tx.exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations ("
          " component text NOT NULL, version integer NOT NULL, description text NOT NULL,"
          " applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (component, version))");
      auto r = tx.exec_params(
          "SELECT 1 FROM schema_migrations WHERE component = $1 AND version = $2", component,
          m.version);
      if (!r.empty()) return absl::OkStatus();
      tx.exec(m.sql);
      tx.exec_params(
          "INSERT INTO schema_migrations (component, version, description) VALUES ($1, $2, $3)",
          component, m.version, m.description);
      ran = true;
      return absl::OkStatus();
    });
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat("migration ", component, " v", m.version, " (",
                                                 m.description, "): ", s.message()));
    }
    if (ran) {
      SLOG(INFO) << "migration applied" << Kv("component", component) << Kv("version", m.version)
                 << Kv("description", m.description);
    }
  }
  return absl::OkStatus();
}

}  // namespace stratus

namespace stratus {

std::function<absl::Status()> DatabaseReadinessCheck(Database* db, std::string component,
                                                     std::vector<Migration> migrations) {
  auto migrated = std::make_shared<std::atomic<bool>>(false);
  return [db, component = std::move(component), migrations = std::move(migrations),
          migrated]() -> absl::Status {
    if (!migrated->load()) {
      absl::Status s = db->Migrate(component, migrations);
      if (!s.ok()) return s;
      migrated->store(true);
    }
    return db->Ping();
  };
}

}  // namespace stratus
