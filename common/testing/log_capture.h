// Test helpers: LogCapture, the log records emitted while it is alive (through a common/logging.h sink), to
// assert on fields rather than on log text.
//
//   LogCapture logs;
//   ...  // code under test logs
//   EXPECT_TRUE(Eventually([&] { return !logs.WithField("logger", "access").empty(); }));
#ifndef STRATUS_COMMON_TESTING_LOG_CAPTURE_H_
#define STRATUS_COMMON_TESTING_LOG_CAPTURE_H_

#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/logging.h"

namespace stratus::testing_util {

class LogCapture {
 public:
  LogCapture() : id_(AddLogSink([this](const LogRecord& r) { Add(r); })) {}
  ~LogCapture() { RemoveLogSink(id_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::vector<LogRecord> records() const {
    std::lock_guard<std::mutex> lock(mu_);
    return records_;
  }
  // The records that have field `key` equal to `value`.
  std::vector<LogRecord> WithField(std::string_view key, std::string_view value) const {
    std::vector<LogRecord> out;
    std::lock_guard<std::mutex> lock(mu_);
    for (const LogRecord& r : records_) {
      if (r.HasField(key) && r.Field(key) == value) out.push_back(r);
    }
    return out;
  }

 private:
  void Add(const LogRecord& r) {
    std::lock_guard<std::mutex> lock(mu_);
    records_.push_back(r);
  }

  mutable std::mutex mu_;
  std::vector<LogRecord> records_ ABSL_GUARDED_BY(mu_);
  int id_;
};

// What `f` writes on stderr: the text form of log lines, usage and error messages (stderr is
// pointed at a temporary file meanwhile).
template <typename F>
std::string StderrOf(F f) {
  std::fflush(stderr);
  FILE* tmp = std::tmpfile();
  const int saved = dup(STDERR_FILENO);
  dup2(fileno(tmp), STDERR_FILENO);
  f();
  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  std::rewind(tmp);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), tmp)) > 0) out.append(buf, n);
  std::fclose(tmp);
  return out;
}

}  // namespace stratus::testing_util

#endif  // STRATUS_COMMON_TESTING_LOG_CAPTURE_H_
