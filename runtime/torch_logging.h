// LibTorch's own log lines (glog: TORCH_WARN, LOG(...) inside c10, ATen and TorchScript) go
// through the structured logger (common/logging.h) instead of glog's plain stderr lines, with
// `logger: torch` and LibTorch's source file and line, so that operators parse one format.
// RouteTorchLogsToStructuredLog() is idempotent and thread-safe; runtime::Model calls it before
// loading the first model, so every process that runs a model routes its LibTorch lines.
// Severities: INFO -> info, WARNING -> warning, ERROR and FATAL -> error. glog writes no files
// and nothing to stderr afterwards.
#ifndef STRATUS_RUNTIME_TORCH_LOGGING_H_
#define STRATUS_RUNTIME_TORCH_LOGGING_H_

namespace stratus::runtime {

void RouteTorchLogsToStructuredLog();

}  // namespace stratus::runtime

#endif  // STRATUS_RUNTIME_TORCH_LOGGING_H_
