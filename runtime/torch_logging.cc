#include "runtime/torch_logging.h"

#include <glog/logging.h>

#include <mutex>
#include <string>
#include <string_view>

#include "common/logging.h"

namespace stratus::runtime {
namespace {

LogLevel LevelOf(google::LogSeverity severity) {
  switch (severity) {
    case google::GLOG_INFO:
      return LogLevel::kInfo;
    case google::GLOG_WARNING:
      return LogLevel::kWarning;
    default:
      return LogLevel::kError;
  }
}

class StructuredSink final : public google::LogSink {
 public:
  void send(google::LogSeverity severity, const char* full_filename, const char* base_filename,
            int line, const struct ::tm* /*time*/, const char* message,
            size_t message_len) override {
    (void)full_filename;
    EmitLogLine(LevelOf(severity), base_filename, line, std::string_view(message, message_len),
                {Kv("logger", "torch")});
  }
};

}  // namespace

void RouteTorchLogsToStructuredLog() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Before InitGoogleLogging glog writes every line to stderr whatever its flags; after it,
    // with no destination file per severity and the stderr threshold above ERROR, it writes
    // only to its sinks (FATAL still reaches stderr: glog aborts right after).
    if (!google::IsGoogleLoggingInitialized()) google::InitGoogleLogging("stratus");
    FLAGS_logtostderr = false;
    FLAGS_alsologtostderr = false;
    for (int s = 0; s < google::NUM_SEVERITIES; ++s) google::SetLogDestination(s, "");
    google::SetStderrLogging(google::GLOG_FATAL);
    static StructuredSink* sink = new StructuredSink();  // lives as long as the process
    google::AddLogSink(sink);
  });
}

}  // namespace stratus::runtime
