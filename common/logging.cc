#include "common/logging.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "common/trace.h"

namespace stratus {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::atomic<int> g_json{-1};  // -1: decide from the environment on first use.
std::atomic<int> g_access{-1};  // likewise

// Sinks: a map under a shared mutex (lines of many threads give to the sinks at once; removal
// waits for them); g_sink_count spares the lock when there are none, the common case.
std::shared_mutex& g_sinks_mu = *new std::shared_mutex;  // never destroyed, like g_sinks
std::map<int, LogSink>* g_sinks = new std::map<int, LogSink>;  // lines are logged until exit
int g_next_sink_id = 1;
std::atomic<int> g_sink_count{0};

bool JsonEnabled() {
  int v = g_json.load(std::memory_order_relaxed);
  if (v < 0) {
    const char* env = std::getenv("STRATUS_LOG_FORMAT");
    v = (env != nullptr && std::string_view(env) == "json") ? 1 : 0;
    g_json.store(v, std::memory_order_relaxed);
  }
  return v == 1;
}

bool AccessEnabledFromEnv() {
  const char* env = std::getenv("STRATUS_ACCESS_LOG");
  if (env == nullptr) return true;
  std::string_view v(env);
  return !(v == "off" || v == "0" || v == "false");
}

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "INFO";
}

std::string Timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
            1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void Emit(LogLevel level, const char* file, int line, std::string_view message,
          std::vector<Kv>& fields) {
  if (const trace::TraceContext* t = trace::Current(); t != nullptr) {
    bool has = false;
    for (const Kv& kv : fields) has = has || kv.key == "trace_id";
    if (!has) fields.emplace_back("trace_id", t->trace_id);
  }
  std::string out;
  if (JsonEnabled()) {
    out = "{\"ts\":\"" + Timestamp() + "\",\"level\":\"" + LevelName(level) + "\",\"msg\":";
    AppendJsonString(out, message);
    for (const Kv& kv : fields) {
      out.push_back(',');
      AppendJsonString(out, kv.key);
      out.push_back(':');
      if (kv.type == Kv::Type::kString) {
        AppendJsonString(out, kv.value);
      } else {
        out += kv.value;  // a finite number or true/false, as printed
      }
    }
    out += "}\n";
  } else {
    out = Timestamp() + " " + LevelName(level) + " ";
    out.append(message);
    for (const Kv& kv : fields) {
      const std::string& v = kv.value;
      out += " " + kv.key + "=" + (v.find(' ') == std::string::npos ? v : "\"" + v + "\"");
    }
    if (level >= LogLevel::kWarning && file != nullptr) {
      std::string_view f(file);
      auto slash = f.rfind('/');
      out += " (" + std::string(slash == std::string_view::npos ? f : f.substr(slash + 1));
      if (line > 0) out += ":" + std::to_string(line);
      out += ")";
    }
    out.push_back('\n');
  }
  ssize_t ignored = ::write(STDERR_FILENO, out.data(), out.size());
  (void)ignored;
  if (g_sink_count.load(std::memory_order_acquire) > 0) {
    LogRecord record{level, std::string(message), std::move(fields)};
    std::shared_lock<std::shared_mutex> lock(g_sinks_mu);
    for (const auto& [id, sink] : *g_sinks) sink(record);
  }
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(level); }
void SetLogJson(bool json) { g_json.store(json ? 1 : 0); }
LogLevel GetLogLevel() { return g_level.load(std::memory_order_relaxed); }

void SetAccessLog(bool enabled) { g_access.store(enabled ? 1 : 0); }
bool AccessLogEnabled() {
  int v = g_access.load(std::memory_order_relaxed);
  if (v < 0) {
    v = AccessEnabledFromEnv() ? 1 : 0;
    g_access.store(v, std::memory_order_relaxed);
  }
  return v == 1;
}

std::string_view LogRecord::Field(std::string_view key) const {
  for (const Kv& kv : fields) {
    if (kv.key == key) return kv.value;
  }
  return {};
}

bool LogRecord::HasField(std::string_view key) const {
  for (const Kv& kv : fields) {
    if (kv.key == key) return true;
  }
  return false;
}

int AddLogSink(LogSink sink) {
  std::unique_lock<std::shared_mutex> lock(g_sinks_mu);
  int id = g_next_sink_id++;
  (*g_sinks)[id] = std::move(sink);
  g_sink_count.store(static_cast<int>(g_sinks->size()), std::memory_order_release);
  return id;
}

void RemoveLogSink(int id) {
  std::unique_lock<std::shared_mutex> lock(g_sinks_mu);
  g_sinks->erase(id);
  g_sink_count.store(static_cast<int>(g_sinks->size()), std::memory_order_release);
}

LogLine::LogLine(LogLevel level, const char* file, int line)
    : level_(level), file_(file), line_(line) {}

LogLine::~LogLine() { Emit(level_, file_, line_, message_.str(), fields_); }

void AddTraceFields(const trace::TraceContext& trace, std::vector<Kv>* fields) {
  if (trace.trace_id.empty()) return;
  fields->emplace_back("trace_id", trace.trace_id);
  fields->emplace_back("span_id", trace.span_id);
  if (!trace.parent_span_id.empty()) fields->emplace_back("parent_span_id", trace.parent_span_id);
}

void EmitLogLine(LogLevel level, const char* file, int line, std::string_view message,
                 std::vector<Kv> fields) {
  if (level < GetLogLevel()) return;
  Emit(level, file, line, message, fields);
}

}  // namespace stratus
