// A PostgreSQL cluster owned by this process, for `stratus up` and integration tests.
//
// Start() creates the cluster with initdb when `data_dir` holds none, starts `postgres` on
// 127.0.0.1 only (trust authentication: loopback, one user's machine), waits until it accepts
// connections and creates the database. PostgreSQL refuses to run as root, so when this process
// is root the cluster runs as `run_as_user` (the `postgres` account of the Debian package) and
// the data folder is handed to that user.
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

  // postgresql://postgres@127.0.0.1:<port>/<database>
  std::string url() const;
  int port() const { return port_; }
  bool running() { return server_ && server_->Running(); }

  // Stops the server (fast shutdown: clients are disconnected).
  absl::Status Stop();
  // Kills the server with SIGKILL, as a crash would.
  void Kill();
  // Sends `sig` to the server and all its backends (e.g. SIGSTOP and SIGCONT, to freeze it).
  void SignalAll(int sig);
  // Starts the server again on the same port and data folder.
  absl::Status Restart();

 private:
  explicit EmbeddedPostgres(const Options& options) : options_(options) {}
  absl::Status Init();
  absl::Status Launch();

  Options options_;
  int port_ = 0;
  std::unique_ptr<Subprocess> server_;
};

}  // namespace stratus

#endif  // STRATUS_COMMON_EMBEDDED_POSTGRES_H_
