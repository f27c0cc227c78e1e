// Structured logging: one line per event, either human-readable (default on a terminal) or JSON
// (STRATUS_LOG_FORMAT=json, what log shippers want).
//
//   SLOG(INFO) << "model loaded" << Kv("model", name) << Kv("ms", ms);
//
// prints `2026-11-26T08:00:00.123Z INFO  model loaded model=faces ms=12` or
// `{"ts":"...","level":"INFO","msg":"model loaded","model":"faces","ms":12}`.
// Thread-safe: each line is written with one write(2) on stderr.
#ifndef STRATUS_COMMON_LOGGING_H_
#define STRATUS_COMMON_LOGGING_H_

#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stratus {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Process-wide settings, normally set once from main.cc.
void SetLogLevel(LogLevel level);
void SetLogJson(bool json);
LogLevel GetLogLevel();

// A key/value attached to a log line.
struct Kv {
  template <typename T>
  Kv(std::string_view k, const T& v) : key(k) {
    std::ostringstream os;
    os << v;
    value = os.str();
  }
  Kv(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  std::string key;
  std::string value;
};

class LogLine {
 public:
  LogLine(LogLevel level, const char* file, int line);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  LogLine& operator<<(const Kv& kv) {
    fields_.emplace_back(kv.key, kv.value);
    return *this;
  }
  template <typename T>
  LogLine& operator<<(const T& v) {
    message_ << v;
    return *this;
  }

 private:
  LogLevel level_;
  const char* file_;
  int line_;
  std::ostringstream message_;
  std::vector<std::pair<std::string, std::string>> fields_;
};

}  // namespace stratus

#define STRATUS_LOG_LEVEL_DEBUG ::stratus::LogLevel::kDebug
#define STRATUS_LOG_LEVEL_INFO ::stratus::LogLevel::kInfo
#define STRATUS_LOG_LEVEL_WARNING ::stratus::LogLevel::kWarning
#define STRATUS_LOG_LEVEL_ERROR ::stratus::LogLevel::kError

#define SLOG(level)                                                 \
  if (STRATUS_LOG_LEVEL_##level < ::stratus::GetLogLevel()) {       \
  } else                                                            \
    ::stratus::LogLine(STRATUS_LOG_LEVEL_##level, __FILE__, __LINE__)

#endif  // STRATUS_COMMON_LOGGING_H_
