// Admission control for expensive requests: at most `max_running` run at once, at most
// `max_waiting` more wait for a turn (in arrival order), and any request beyond that is refused
// at once with RESOURCE_EXHAUSTED (retryable: AWS's ThrottlingException). A waiting request
// whose deadline passes leaves with DEADLINE_EXCEEDED.
//
//   Admission admission({.max_running = 2, .max_waiting = 32});
//   STRATUS_ASSIGN_OR_RETURN(Admission::Ticket turn, admission.Enter(deadline, "AnalyzeFaces"));
//   ... run; the turn passes to the next waiter when `turn` goes out of scope ...
//
// Thread-safe; a Ticket must not outlive its Admission.
#ifndef STRATUS_COMMON_ADMISSION_H_
#define STRATUS_COMMON_ADMISSION_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace stratus {

class Admission {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    int max_running = 1;  // >= 1
    int max_waiting = 0;  // >= 0
  };

  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
    Ticket& operator=(Ticket&& other) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket() { Leave(); }
    // Hands the turn on now (a no-op for an empty ticket).
    void Leave();

   private:
    friend class Admission;
    explicit Ticket(Admission* owner) : owner_(owner) {}
    Admission* owner_ = nullptr;
  };

  explicit Admission(Options options);
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  // Blocks until the caller may run (or until `deadline`); `what` names the work in errors.
  absl::StatusOr<Ticket> Enter(Clock::time_point deadline, absl::string_view what);

  int running() const;
  int waiting() const;

 private:
  void Release();

  const Options options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_ticket_ ABSL_GUARDED_BY(mu_) = 0;  // arrival order
  std::set<uint64_t> waiters_ ABSL_GUARDED_BY(mu_);  // the lowest is next
};

}  // namespace stratus

#endif  // STRATUS_COMMON_ADMISSION_H_
