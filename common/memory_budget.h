// A byte budget shared by concurrent requests, so that memory is bounded by bytes rather than
// by request counts. A request reserves what it is about to hold (a decoded image) before it
// allocates it and gives it back when done; a reservation that does not fit fails at once with
// RESOURCE_EXHAUSTED (retryable: AWS's ThrottlingException), so overload is refused quickly
// instead of queueing without end.
//
//   MemoryBudget budget(512 << 20);
//   STRATUS_ASSIGN_OR_RETURN(MemoryBudget::Reservation held, budget.Reserve(bytes, "the image"));
//   ... decode and use the image; `held` gives the bytes back when it goes out of scope ...
//
// A single reservation larger than the whole budget is refused the same way. Thread-safe; a
// Reservation must not outlive its budget.
#ifndef STRATUS_COMMON_MEMORY_BUDGET_H_
#define STRATUS_COMMON_MEMORY_BUDGET_H_

#include <atomic>
#include <cstddef>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/metrics.h"

namespace stratus {

class MemoryBudget {
 public:
  class Reservation {
   public:
    Reservation() = default;  // holds nothing
    Reservation(Reservation&& other) noexcept { *this = std::move(other); }
    Reservation& operator=(Reservation&& other) noexcept;
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;
    ~Reservation() { Release(); }

    size_t bytes() const { return bytes_; }
    // Gives the bytes back now (a no-op when it holds none).
    void Release();

   private:
    friend class MemoryBudget;
    Reservation(MemoryBudget* budget, size_t bytes) : budget_(budget), bytes_(bytes) {}
    MemoryBudget* budget_ = nullptr;
    size_t bytes_ = 0;
  };

  // `limit_bytes` 0: no limit (reservations always succeed and are still counted). `in_use`,
  // when set, follows reserved() (not owned; must outlive the budget).
  explicit MemoryBudget(size_t limit_bytes, metrics::Gauge* in_use = nullptr)
      : limit_(limit_bytes), in_use_(in_use) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // Reserves `bytes`, or RESOURCE_EXHAUSTED naming `what` and the budget when they do not fit.
  absl::StatusOr<Reservation> Reserve(size_t bytes, absl::string_view what);

  size_t limit() const { return limit_; }
  size_t reserved() const { return reserved_.load(std::memory_order_relaxed); }
  // The most ever reserved at once.
  size_t peak() const { return peak_.load(std::memory_order_relaxed); }

 private:
  const size_t limit_;
  metrics::Gauge* const in_use_;
  std::atomic<size_t> reserved_{0};
  std::atomic<size_t> peak_{0};
};

}  // namespace stratus

#endif  // STRATUS_COMMON_MEMORY_BUDGET_H_
