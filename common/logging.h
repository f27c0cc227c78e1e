// Structured logging: one line per event, either human-readable (default on a terminal) or JSON
// (STRATUS_LOG_FORMAT=json, what log shippers want).
//
//   SLOG(INFO) << "model loaded" << Kv("model", name) << Kv("ms", ms);
//
// prints `2026-11-26T08:00:00.123Z INFO  model loaded model=faces ms=12` or
// `{"ts":"...","level":"INFO","msg":"model loaded","model":"faces","ms":12}`.
// In JSON, a Kv of an integer or floating-point value is a JSON number (NaN and infinities,
// which JSON lacks, are strings), of a bool a JSON boolean, anything else a string.
// While a trace is current on the logging thread (common/trace.h: every gRPC call and HTTP
// request ServiceHost serves), each line also carries `trace_id` (unless it has one already).
// gRPC core's log (routed here by ServiceHost) and the access log mark their lines with a
// `logger` field ("grpc", "access"). The fields and how to follow a request across services:
// docs/observability.md.
// Thread-safe: each line is written with one write(2) on stderr, then given to the sinks.
#ifndef STRATUS_COMMON_LOGGING_H_
#define STRATUS_COMMON_LOGGING_H_

#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/trace.h"

namespace stratus {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Process-wide settings, normally set once from main.cc.
void SetLogLevel(LogLevel level);
void SetLogJson(bool json);
LogLevel GetLogLevel();

// The access log (one line per RPC and per AWS request, logger "access", level INFO): on unless
// STRATUS_ACCESS_LOG is "off", "0" or "false", or SetAccessLog(false) was called (services:
// --access-log / --no-access-log, common/service_flags.h).
void SetAccessLog(bool enabled);
bool AccessLogEnabled();

// A key/value attached to a log line.
struct Kv {
  enum class Type { kString, kNumber, kBool };

  template <typename T>
  Kv(std::string_view k, const T& v) : key(k) {
    std::ostringstream os;
    os << v;
    value = os.str();
    if constexpr (std::is_floating_point_v<T>) {
      type = std::isfinite(v) ? Type::kNumber : Type::kString;
    } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, char> &&
                         !std::is_same_v<T, signed char> && !std::is_same_v<T, unsigned char>) {
      type = Type::kNumber;
    }
  }
  Kv(std::string_view k, bool v) : key(k), value(v ? "true" : "false"), type(Type::kBool) {}
  std::string key;
  std::string value;  // as printed in text format
  Type type = Type::kString;
};

// One emitted line, as sinks receive it.
struct LogRecord {
  LogLevel level;
  std::string message;
  std::vector<Kv> fields;  // in order, trace_id last when it was added
  // The value of the first field named `key`, or "" when there is none.
  std::string_view Field(std::string_view key) const;
  bool HasField(std::string_view key) const;
};

// Sinks see every line that passes the level, after it is written to stderr, on the logging
// thread; they must be thread-safe and must not log. For tests (common/testing/log_capture.h)
// and forwarding. AddLogSink returns an id for RemoveLogSink, which waits for running calls.
using LogSink = std::function<void(const LogRecord&)>;
int AddLogSink(LogSink sink);
void RemoveLogSink(int id);

class LogLine {
 public:
  LogLine(LogLevel level, const char* file, int line);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  LogLine& operator<<(const Kv& kv) {
    fields_.push_back(kv);
    return *this;
  }
  LogLine& operator<<(Kv&& kv) {
    fields_.push_back(std::move(kv));
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
  std::vector<Kv> fields_;
};

// For adapters of other loggers: one line with `message` and `fields`, at `level` (filtered by
// the level like SLOG), attributed to `file`:`line` (either may be null / 0).
void EmitLogLine(LogLevel level, const char* file, int line, std::string_view message,
                 std::vector<Kv> fields);

// Appends trace_id, span_id and (when set) parent_span_id of `trace` to `fields`: what the
// access lines (gRPC and AWS JSON) carry so that callers and callees link up. Nothing for an
// empty context.
void AddTraceFields(const trace::TraceContext& trace, std::vector<Kv>* fields);

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
