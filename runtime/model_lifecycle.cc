#include "runtime/model_lifecycle.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace stratus::runtime {

ModelLifecycle::ModelLifecycle(std::string what) : what_(std::move(what)) {}

ModelLifecycle::~ModelLifecycle() { Join(); }

absl::Status ModelLifecycle::Run(const std::function<absl::Status()>& load) {
  std::call_once(once_, [&] {
    absl::Status status = load();
    {
      std::lock_guard<std::mutex> lock(mu_);
      result_ = status;
    }
    state_.store(status.ok() ? State::kReady : State::kFailed, std::memory_order_release);
  });
  return result();
}

void ModelLifecycle::Start(std::function<absl::Status()> load, std::function<void()> on_done) {
  std::lock_guard<std::mutex> lock(thread_mu_);
  if (thread_.joinable() || done()) return;
  thread_ = std::thread([this, load = std::move(load), on_done = std::move(on_done)] {
    Run(load).IgnoreError();
    if (on_done) on_done();
  });
}

void ModelLifecycle::Join() {
  std::lock_guard<std::mutex> lock(thread_mu_);
  if (thread_.joinable()) thread_.join();
}

absl::Status ModelLifecycle::result() const {
  if (!done()) return absl::UnavailableError(absl::StrCat(what_, " is loading"));
  std::lock_guard<std::mutex> lock(mu_);
  return result_;
}

absl::Status ModelLifecycle::Readiness() const {
  switch (state()) {
    case State::kReady:
      return absl::OkStatus();
    case State::kLoading:
      return absl::UnavailableError(absl::StrCat(what_, " is loading"));
    case State::kFailed:
      break;
  }
  return absl::UnavailableError(absl::StrCat(what_, " failed to load: ", result().message()));
}

const char* ModelLifecycleStateName(ModelLifecycle::State state) {
  switch (state) {
    case ModelLifecycle::State::kLoading:
      return "LOADING";
    case ModelLifecycle::State::kReady:
      return "READY";
    case ModelLifecycle::State::kFailed:
      return "FAILED";
  }
  return "UNKNOWN";
}

}  // namespace stratus::runtime
