// The one lifecycle of the models a service loads at start-up: LOADING until its load function
// has run once, then READY or FAILED with the reason. The detector and the mask service hold
// one each; their readiness checks and the errors of calls made too early come from it.
//
//   runtime::ModelLifecycle lifecycle("the mask model 'mask'");
//   lifecycle.Start([this] { return LoadModel(); }, on_done);  // on a background thread, or
//   absl::Status s = lifecycle.Run([this] { return LoadModel(); });  // on this thread
//   absl::Status ready = lifecycle.Readiness();  // UNAVAILABLE until READY, saying why
//
// The load function publishes what it loaded itself (under its own lock, or before returning:
// state() turns READY or FAILED only after it returned, with release/acquire ordering, so a
// caller that saw kReady sees what the function wrote).
//
// Thread safety: every method may be called from any thread. The destructor waits for a load
// in progress (call Join() earlier when the load function uses members declared after this).
#ifndef STRATUS_RUNTIME_MODEL_LIFECYCLE_H_
#define STRATUS_RUNTIME_MODEL_LIFECYCLE_H_

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"

namespace stratus::runtime {

class ModelLifecycle {
 public:
  enum class State { kLoading, kReady, kFailed };

  // `what` names the models in messages: "<what> is loading", "<what> failed to load: ...".
  explicit ModelLifecycle(std::string what);
  ~ModelLifecycle();
  ModelLifecycle(const ModelLifecycle&) = delete;
  ModelLifecycle& operator=(const ModelLifecycle&) = delete;

  // Runs `load` on this thread the first time; later calls (and calls while it runs) wait for
  // it and return its result.
  absl::Status Run(const std::function<absl::Status()>& load);
  // Run(load) on a background thread, then `on_done` (if any) there. The first Start() or
  // Run() wins; a later Start() does nothing.
  void Start(std::function<absl::Status()> load, std::function<void()> on_done = nullptr);
  // Waits for a background load to finish (no-op without one).
  void Join();

  State state() const { return state_.load(std::memory_order_acquire); }
  bool done() const { return state() != State::kLoading; }
  // The load function's result once done; before, UNAVAILABLE "<what> is loading".
  absl::Status result() const;
  // OK when READY; UNAVAILABLE otherwise: "<what> is loading" or "<what> failed to load: why".
  absl::Status Readiness() const;

 private:
  const std::string what_;
  std::once_flag once_;
  std::atomic<State> state_{State::kLoading};
  mutable std::mutex mu_;
  absl::Status result_ ABSL_GUARDED_BY(mu_);
  std::mutex thread_mu_;
  std::thread thread_ ABSL_GUARDED_BY(thread_mu_);
};

// "LOADING", "READY", "FAILED".
const char* ModelLifecycleStateName(ModelLifecycle::State state);

}  // namespace stratus::runtime

#endif  // STRATUS_RUNTIME_MODEL_LIFECYCLE_H_
