#include "common/grpc_channel.h"

#include <grpc/support/log.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/auth/client.h"
#include "common/logging.h"
#include "common/version.h"

namespace stratus {
namespace {

thread_local std::optional<std::chrono::system_clock::time_point> t_incoming_deadline;

void GrpcLogToStructured(gpr_log_func_args* args) {
  LogLevel level = LogLevel::kError;
  switch (args->severity) {
    case GPR_LOG_SEVERITY_DEBUG:
      level = LogLevel::kDebug;
      break;
    case GPR_LOG_SEVERITY_INFO:
      level = LogLevel::kInfo;
      break;
    case GPR_LOG_SEVERITY_ERROR:
      level = LogLevel::kError;
      break;
  }
  EmitLogLine(level, args->file, args->line, args->message != nullptr ? args->message : "",
              {Kv("logger", "grpc")});
}

}  // namespace

std::string DefaultServiceConfigJson() {
  return absl::StrCat(R"({"loadBalancingConfig":[{"round_robin":{}}],)",
                      R"("methodConfig":[{"name":[{}],"retryPolicy":{"maxAttempts":)",
                      kRetryMaxAttempts,
                      R"(,"initialBackoff":"0.1s","maxBackoff":"1s","backoffMultiplier":2,)",
                      R"("retryableStatusCodes":["UNAVAILABLE"]}}]})");
}

grpc::ChannelArguments DefaultChannelArguments(const ChannelOptions& options) {
  grpc::ChannelArguments args;
  if (options.retry_unavailable) {
    args.SetServiceConfigJSON(DefaultServiceConfigJson());
  } else {
    args.SetServiceConfigJSON(R"({"loadBalancingConfig":[{"round_robin":{}}]})");
  }
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, options.retry_unavailable ? 1 : 0);
  if (options.keepalive) {
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(kKeepaliveTime.count()));
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, static_cast<int>(kKeepaliveTimeout.count()));
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);  // keep pinging an idle stream
  }
  args.SetMaxReceiveMessageSize(options.max_message_bytes);
  args.SetMaxSendMessageSize(options.max_message_bytes);
  args.SetUserAgentPrefix("stratus/" + std::string(Version()));
  return args;
}

std::shared_ptr<grpc::Channel> MakeChannel(const ChannelOptions& options,
                                           const grpc::ChannelArguments& args) {
  const std::string key = options.api_key.value_or(auth::DefaultApiKey());
  return auth::CreateChannelWithKey(options.target, key, args, options.credentials);
}

void RouteGrpcLogsToStructuredLog() { gpr_set_log_function(GrpcLogToStructured); }

std::shared_ptr<grpc::Channel> MakeChannel(const ChannelOptions& options) {
  return MakeChannel(options, DefaultChannelArguments(options));
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target) {
  return MakeChannel(ChannelOptions{.target = target});
}

void ApplyServerKeepalive(grpc::ServerBuilder* builder) {
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 20000);
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
}

std::chrono::milliseconds DefaultTimeout(CallKind kind) {
  switch (kind) {
    case CallKind::kInference:
      return std::chrono::seconds(30);
    case CallKind::kIndexed:
      return std::chrono::seconds(60);
    case CallKind::kControl:
      return std::chrono::seconds(10);
    case CallKind::kStream:
      break;
  }
  return std::chrono::milliseconds::max();
}

IncomingDeadlineScope::IncomingDeadlineScope(const grpc::ServerContext* incoming)
    : IncomingDeadlineScope(incoming != nullptr ? incoming->deadline()
                                                : std::chrono::system_clock::time_point::max()) {}

IncomingDeadlineScope::IncomingDeadlineScope(std::chrono::system_clock::time_point deadline)
    : previous_(t_incoming_deadline) {
  t_incoming_deadline = previous_.has_value() ? std::min(*previous_, deadline) : deadline;
}

IncomingDeadlineScope::~IncomingDeadlineScope() { t_incoming_deadline = previous_; }

std::chrono::system_clock::time_point OutgoingDeadline(std::chrono::milliseconds timeout,
                                                       const grpc::ServerContext* incoming) {
  using Clock = std::chrono::system_clock;
  const Clock::time_point now = Clock::now();
  // now + timeout without overflow (kStream's max() means no deadline).
  Clock::time_point own = timeout >= std::chrono::duration_cast<std::chrono::milliseconds>(
                                         Clock::time_point::max() - now)
                              ? Clock::time_point::max()
                              : now + timeout;
  if (incoming != nullptr) return std::min(own, incoming->deadline());
  if (t_incoming_deadline.has_value()) return std::min(own, *t_incoming_deadline);
  return own;
}

void SetDeadline(grpc::ClientContext* ctx, std::chrono::milliseconds timeout,
                 const grpc::ServerContext* incoming) {
  const auto deadline = OutgoingDeadline(timeout, incoming);
  if (deadline != std::chrono::system_clock::time_point::max()) ctx->set_deadline(deadline);
}

}  // namespace stratus
