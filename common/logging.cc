#include "common/logging.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace stratus {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::atomic<int> g_json{-1};  // -1: decide from the environment on first use.

bool JsonEnabled() {
  int v = g_json.load(std::memory_order_relaxed);
  if (v < 0) {
    const char* env = std::getenv("STRATUS_LOG_FORMAT");
    v = (env != nullptr && std::string_view(env) == "json") ? 1 : 0;
    g_json.store(v, std::memory_order_relaxed);
  }
  return v == 1;
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

}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(level); }
void SetLogJson(bool json) { g_json.store(json ? 1 : 0); }
LogLevel GetLogLevel() { return g_level.load(std::memory_order_relaxed); }

LogLine::LogLine(LogLevel level, const char* file, int line)
    : level_(level), file_(file), line_(line) {}

LogLine::~LogLine() {
  std::string out;
  if (JsonEnabled()) {
    out = "{\"ts\":\"" + Timestamp() + "\",\"level\":\"" + LevelName(level_) + "\",\"msg\":";
    AppendJsonString(out, message_.str());
    for (const auto& [k, v] : fields_) {
      out.push_back(',');
      AppendJsonString(out, k);
      out.push_back(':');
      AppendJsonString(out, v);
    }
    out += "}\n";
  } else {
    out = Timestamp() + " " + LevelName(level_) + " " + message_.str();
    for (const auto& [k, v] : fields_) {
      out += " " + k + "=" + (v.find(' ') == std::string::npos ? v : "\"" + v + "\"");
    }
    if (level_ >= LogLevel::kWarning) {
      std::string_view f(file_);
      auto slash = f.rfind('/');
      out += " (" + std::string(slash == std::string_view::npos ? f : f.substr(slash + 1)) + ":" +
             std::to_string(line_) + ")";
    }
    out.push_back('\n');
  }
  ssize_t ignored = ::write(STDERR_FILENO, out.data(), out.size());
  (void)ignored;
}

}  // namespace stratus
