// PostgreSQL through libpqxx: a bounded connection pool, transactions as functions, and
// versioned migrations applied at start-up.
//
//   auto db = Database::Create({.url = "postgresql://..."});
//   STRATUS_RETURN_IF_ERROR((*db)->Migrate("recognition", kMigrations));
//   absl::Status s = (*db)->Transact([&](pqxx::work& tx) {
//     tx.exec_params("INSERT INTO t (a) VALUES ($1)", a);   // parameterised queries only
//     return absl::OkStatus();
//   });
//
// Connections are opened lazily, so Create() succeeds while PostgreSQL is down; a connection
// that breaks is dropped and the next call opens a fresh one. libpqxx exceptions never leave
// this module: they become statuses (UNAVAILABLE for connection loss, ALREADY_EXISTS for unique
// violations, ABORTED for serialisation failures and deadlocks, INVALID_ARGUMENT for bad data,
// INTERNAL otherwise). Thread-safe; at most `pool_size` connections are open at once.
#ifndef STRATUS_COMMON_DB_H_
#define STRATUS_COMMON_DB_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"

namespace stratus {

struct Migration {
  int version;              // 1, 2, 3, ... applied in order, each once
  std::string description;  // shown in logs and stored in schema_migrations
  std::string sql;          // one or more statements, run in one transaction
};

class Database {
 public:
  struct Options {
    std::string url;                                 // libpq URI or key=value string
    int pool_size = 4;                               // connections open at most
    std::chrono::milliseconds acquire_timeout{5000}; // wait for a free connection
    int connect_timeout_seconds = 3;                 // per connection attempt
  };

  static absl::StatusOr<std::unique_ptr<Database>> Create(const Options& options);
  ~Database();

  // Runs `fn` in a transaction on a pooled connection; commits when it returns OK, rolls back
  // otherwise.
  absl::Status Transact(const std::function<absl::Status(pqxx::work&)>& fn);

  // Like Transact, for functions that produce a value.
  template <typename T>
  absl::StatusOr<T> Query(const std::function<absl::StatusOr<T>(pqxx::work&)>& fn) {
    absl::StatusOr<T> result = absl::InternalError("not run");
    absl::Status s = Transact([&](pqxx::work& tx) -> absl::Status {
      result = fn(tx);
      return result.status();
    });
    if (!s.ok()) return s;
    return result;
  }

  // Runs `fn` on a connection outside any transaction (LISTEN, or statements that cannot run
  // in one).
  absl::Status WithConnection(const std::function<absl::Status(pqxx::connection&)>& fn);

  // SELECT 1 on a pooled connection: the readiness check of every service using the database.
  absl::Status Ping();

  // Applies the migrations of `component` not yet applied, in version order, each in its own
  // transaction, under an advisory lock so that replicas starting together do not race.
  absl::Status Migrate(const std::string& component, const std::vector<Migration>& migrations);

  // Converts a libpqxx (or std) exception into a status; for code that talks to libpqxx
  // directly (e.g. a LISTEN loop on its own connection).
  static absl::Status StatusFromException(const std::exception& e);

  const std::string& url() const { return options_.url; }

 private:
  explicit Database(const Options& options) : options_(options) {}
  absl::StatusOr<std::unique_ptr<pqxx::connection>> Acquire();
  void Release(std::unique_ptr<pqxx::connection> conn, bool broken);

  Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // connections handed out or idle
};

}  // namespace stratus


namespace stratus {

// A readiness check for a service backed by PostgreSQL: applies `migrations` once the server is
// reachable (retrying on later calls while it is not), then pings. Hand it to
// ServiceHost::AddReadinessCheck("database", ...). `db` must outlive the returned function.
std::function<absl::Status()> DatabaseReadinessCheck(Database* db, std::string component,
                                                     std::vector<Migration> migrations);

}  // namespace stratus

#endif  // STRATUS_COMMON_DB_H_
