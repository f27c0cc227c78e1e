#include "common/admission.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace stratus {

namespace {

Admission::Options Checked(Admission::Options o) {
  o.max_running = std::max(1, o.max_running);
  o.max_waiting = std::max(0, o.max_waiting);
  return o;
}

}  // namespace

Admission::Admission(Options options) : options_(Checked(options)) {}

Admission::Ticket& Admission::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    Leave();
    owner_ = other.owner_;
    other.owner_ = nullptr;
  }
  return *this;
}

void Admission::Ticket::Leave() {
  if (owner_ != nullptr) owner_->Release();
  owner_ = nullptr;
}

absl::StatusOr<Admission::Ticket> Admission::Enter(Clock::time_point deadline,
                                                   absl::string_view what) {
  std::unique_lock<std::mutex> lock(mu_);
  if (running_ < options_.max_running && waiters_.empty()) {
    ++running_;
    return Ticket(this);
  }
  if (static_cast<int>(waiters_.size()) >= options_.max_waiting) {
    return absl::ResourceExhaustedError(
        absl::StrCat(what, ": ", running_, " running and ", waiters_.size(),
                     " waiting, the most this server takes; retry later"));
  }
  const uint64_t mine = next_ticket_++;
  waiters_.insert(mine);
  const bool admitted = cv_.wait_until(lock, deadline, [&] {
    return *waiters_.begin() == mine && running_ < options_.max_running;
  });
  waiters_.erase(mine);
  cv_.notify_all();  // the next waiter may be at the front now
  if (!admitted) {
    return absl::DeadlineExceededError(
        absl::StrCat(what, ": the deadline passed while waiting for a turn"));
  }
  ++running_;
  return Ticket(this);
}

void Admission::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  --running_;
  cv_.notify_all();
}

int Admission::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

int Admission::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(waiters_.size());
}

}  // namespace stratus
