// A PostgreSQL cluster owned by this process, for `stratus up` and integration tests.
//
// Start() creates the cluster with initdb when there is none, starts `postgres` listening on
// 127.0.0.1 only (and on a Unix socket in the cluster folder), waits until it accepts connections
// and creates the database. Every connection authenticates with a password (scram-sha-256): one
// generated on first start and kept in <data_dir>/stratus.password (mode 0600); url() carries it.
// A cluster made before passwords were used (trust authentication) is given one on its next start.
//
// PostgreSQL refuses to run as root, so when this process is root the cluster runs as
// `run_as_user` (the `postgres` account of the Debian package) and the cluster folder is handed to
// that user. No permission outside the data folder is changed: when that user cannot reach
// `data_dir` (a parent it may not traverse, such as root's home), the cluster lives in a folder
// it owns under its home directory, <home>/stratus/<hash of data_dir> (Debian:
// /var/lib/postgresql/stratus/...), which <data_dir>/cluster links to.
// Not thread-safe; the destructor stops the server (fast shutdown).
#ifndef STRATUS_COMMON_EMBEDDED_POSTGRES_H_
#define STRATUS_COMMON_EMBEDDED_POSTGRES_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/subprocess.h"

namespace stratus {

class EmbeddedPostgres {
 public:
  struct Options {
    std::string data_dir;               // required; created when missing
    int port = 0;                       // 0: a free port
    std::string bin_dir;                // "": the newest /usr/lib/postgresql/*/bin
    std::string run_as_user = "postgres";
    std::string database = "stratus";
    std::string log_file;               // "": <data_dir>/postgres.log
  };

  static absl::StatusOr<std::unique_ptr<EmbeddedPostgres>> Start(const Options& options);
  ~EmbeddedPostgres();

  // postgresql://postgres:<password>@127.0.0.1:<port>/<database>
  std::string url() const;
  // The folder the cluster lives in: data_dir, or the one under run_as_user's home.
  const std::string& cluster_dir() const { return cluster_dir_; }
  int port() const { return port_; }
  bool running() { return server_ && server_->Running(); }

  // Stops the server (fast shutdown: clients are disconnected).
  absl::Status Stop();
  // Kills the server and its backends with SIGKILL, as a crash would; returns once the
  // postmaster is gone.
  void Kill();
  // Sends `sig` to the server and all its backends (e.g. SIGSTOP and SIGCONT, to freeze it).
  void SignalAll(int sig);
  // Starts the server again on the same port and data folder.
  absl::Status Restart();

 private:
  explicit EmbeddedPostgres(const Options& options) : options_(options) {}
  absl::Status Init();
  absl::Status Launch();
  absl::Status SetPasswordOnTrustCluster();
  std::string AdminUrl(const std::string& database) const;

  Options options_;
  std::string cluster_dir_;
  std::string password_;
  int port_ = 0;
  std::unique_ptr<Subprocess> server_;
};

}  // namespace stratus

#endif  // STRATUS_COMMON_EMBEDDED_POSTGRES_H_
