// Test helper: polls a condition until it holds or a deadline passes, for tests that watch
// processes, servers and background threads change state.
#ifndef STRATUS_COMMON_TESTING_EVENTUALLY_H_
#define STRATUS_COMMON_TESTING_EVENTUALLY_H_

#include <chrono>
#include <thread>

namespace stratus::testing_util {

// True as soon as `condition()` is; false if it still is not after `timeout` (checked once
// more at the deadline). Polls every `period`.
template <typename F>
bool Eventually(F condition, std::chrono::milliseconds timeout = std::chrono::seconds(5),
                std::chrono::milliseconds period = std::chrono::milliseconds(50)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(period);
  }
  return condition();
}

}  // namespace stratus::testing_util

#endif  // STRATUS_COMMON_TESTING_EVENTUALLY_H_
