// Keeps child processes (services, the embedded PostgreSQL) running for `stratus up`.
//
// Each child is a start function and a liveness check. Poll(now) notes the children that have
// exited and starts those that are due: a child that exits is started again after a backoff that
// doubles with each failure in a row (initial_backoff up to max_backoff); a child that stayed up
// for `healthy_uptime` starts again after initial_backoff, its count of failures reset. A start
// that fails counts as a failure too. Whether a child had become ready does not matter: one that
// dies while starting up is restarted the same way.
//
// Time is passed in (steady clock), so the policy can be tested without waiting. Not
// thread-safe: one thread polls.
#ifndef STRATUS_CLI_SUPERVISOR_H_
#define STRATUS_CLI_SUPERVISOR_H_

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace stratus::cli {

class Supervisor {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    std::chrono::milliseconds initial_backoff{1000};
    std::chrono::milliseconds max_backoff{30000};
    std::chrono::milliseconds healthy_uptime{60000};  // up this long: the backoff resets
    // Told about every exit and restart (e.g. to print a line); may be empty.
    std::function<void(const std::string& name, const std::string& what)> log;
  };

  struct Child {
    std::string name;
    std::function<absl::Status()> start;  // starts it (again); the old process is gone
    std::function<bool()> running;
    std::function<std::string()> exit_reason;  // e.g. "exited with code 1"; may be empty
  };

  struct State {
    bool up = false;
    int starts = 0;  // successful starts, the first included
    int failures_in_a_row = 0;
    Clock::time_point started{};
    Clock::time_point next_start{};
  };

  explicit Supervisor(Options options) : options_(std::move(options)) {}

  // Adds a child that is started on the next Poll().
  void Add(Child child);
  // Adds a child already running since `started`.
  void AddRunning(Child child, Clock::time_point started);

  // Notes exits and starts the children that are due. Returns how many it started.
  int Poll(Clock::time_point now);

  // The delay before the next start after `failures_in_a_row` failures (>= 1).
  std::chrono::milliseconds Backoff(int failures_in_a_row) const;

  // nullptr when no child has that name.
  const State* state(const std::string& name) const;

 private:
  struct Entry {
    Child child;
    State state;
  };
  void Log(const std::string& name, const std::string& what);

  Options options_;
  std::vector<Entry> children_;
};

}  // namespace stratus::cli

#endif  // STRATUS_CLI_SUPERVISOR_H_
