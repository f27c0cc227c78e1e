#include "common/memory_budget.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace stratus {
namespace {

std::string Mib(size_t bytes) {
  return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1 << 20));
}

}  // namespace

MemoryBudget::Reservation& MemoryBudget::Reservation::operator=(Reservation&& other) noexcept {
  if (this != &other) {
    Release();
    budget_ = std::exchange(other.budget_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

void MemoryBudget::Reservation::Release() {
  if (budget_ != nullptr) {
    budget_->reserved_.fetch_sub(bytes_, std::memory_order_relaxed);
    if (budget_->in_use_ != nullptr) budget_->in_use_->Decrement(static_cast<double>(bytes_));
  }
  budget_ = nullptr;
  bytes_ = 0;
}

absl::StatusOr<MemoryBudget::Reservation> MemoryBudget::Reserve(size_t bytes,
                                                                absl::string_view what) {
  size_t now = reserved_.load(std::memory_order_relaxed);
  for (;;) {
    if (limit_ > 0 && (bytes > limit_ || now > limit_ - bytes)) {
      return absl::ResourceExhaustedError(absl::StrCat(
          what, " needs ", Mib(bytes), " and ", Mib(now), " of the ", Mib(limit_),
          " memory budget are in use by requests in flight; retry later"));
    }
    if (reserved_.compare_exchange_weak(now, now + bytes, std::memory_order_relaxed)) break;
  }
  const size_t total = now + bytes;
  size_t peak = peak_.load(std::memory_order_relaxed);
  while (total > peak && !peak_.compare_exchange_weak(peak, total, std::memory_order_relaxed)) {
  }
  if (in_use_ != nullptr) in_use_->Increment(static_cast<double>(bytes));
  return Reservation(this, bytes);
}

}  // namespace stratus
