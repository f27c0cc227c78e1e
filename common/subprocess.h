// Child processes for the local runner (`stratus up`) and integration tests.
//
// Spawn() forks and execs `argv[0]` (searched in PATH when it has no slash), with extra
// environment variables, optionally as another user (when running as root, e.g. PostgreSQL,
// which refuses to run as root), with stdout and stderr appended to a log file or inherited.
// The child gets its own process group so a terminal's Ctrl-C reaches only the parent, which
// then stops its children in order. Not thread-safe per object.
#ifndef STRATUS_COMMON_SUBPROCESS_H_
#define STRATUS_COMMON_SUBPROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace stratus {

class Subprocess {
 public:
  struct Options {
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;  // added to (or replacing in) the parent's
    std::string run_as_user;                 // only applied when running as root
    std::string log_file;                    // "" = inherit stdout/stderr
    std::string working_dir;                 // "" = the parent's
  };

  static absl::StatusOr<std::unique_ptr<Subprocess>> Spawn(const Options& options);
  // Kills (SIGKILL) and reaps the child if it is still running.
  ~Subprocess();

  pid_t pid() const { return pid_; }
  bool Running();
  // The exit status once exited (128+signal when killed by a signal).
  std::optional<int> exit_code() const { return exit_code_; }

  void Signal(int sig);
  // Sends SIGTERM, waits up to `grace`, then SIGKILL. Returns the exit code.
  int Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(10000));
  // Waits up to `timeout` for the child to exit; nullopt when it is still running.
  std::optional<int> Wait(std::chrono::milliseconds timeout);

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  std::optional<int> exit_code_;
};

// Runs a command to completion; returns its exit code, with its output in `output` if given.
absl::StatusOr<int> RunCommand(const Subprocess::Options& options, std::string* output = nullptr);

// A TCP port on 127.0.0.1 that was free a moment ago.
absl::StatusOr<int> PickFreePort();

}  // namespace stratus

#endif  // STRATUS_COMMON_SUBPROCESS_H_
