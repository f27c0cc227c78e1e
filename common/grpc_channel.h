// The one way this project makes a gRPC client channel, with the gRPC conventions:
//
// - Credentials and the API key from common/auth/client.h (plain text or the process's client
//   TLS; `authorization: Bearer <key>` on every call).
// - A default service config: round_robin over every address the target resolves to (so
//   `dns:///detector-headless:50052` or `ipv4:127.0.0.1:P1,127.0.0.1:P2` spreads calls over the
//   replicas), and a retry policy for UNAVAILABLE (kRetryMaxAttempts attempts, exponential
//   backoff from 0.1 s to 1 s). A call is retried only while the server has sent nothing back,
//   so a stream is never replayed half-way.
// - Keepalive pings every 30 s (10 s to answer), also while no call is open, so a long-lived
//   stream (DetectStream, WatchEvents, Feed) notices a dead peer and idle connections stay up
//   through NATs. Servers must accept such pings: ApplyServerKeepalive().
// - Max message sizes in both directions equal to the servers' (ServiceHost's
//   max_message_bytes, 16 MiB), and the user agent "stratus/<version>".
// - Trace Context (from common/auth/client.h, so CreateChannelWithKey channels have it too): a
//   call started while a trace is current on the calling thread (common/trace.h; ServiceHost
//   makes one current for every call it serves) sends
//   `traceparent: 00-<trace id>-<current span id>-<flags>`, unless the ClientContext already has
//   one. The callee then logs the same trace id, with the caller's span as its parent span (so
//   access log lines link up: a callee's parent_span_id is its caller's span_id). Nothing is sent
//   outside a trace, and the callee starts one.
//
// Deadlines: DefaultTimeout(kind) is the deadline each kind of call gets; SetDeadline() sets it
// on a ClientContext, shortened to the deadline of the incoming call being served when one is
// given (explicitly, or by an IncomingDeadlineScope on the serving thread), so an outgoing call
// never outlives the call that caused it.
#ifndef STRATUS_COMMON_GRPC_CHANNEL_H_
#define STRATUS_COMMON_GRPC_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace stratus {

inline constexpr int kRetryMaxAttempts = 4;
inline constexpr int kDefaultMaxMessageBytes = 16 << 20;
inline constexpr std::chrono::milliseconds kKeepaliveTime{30000};
inline constexpr std::chrono::milliseconds kKeepaliveTimeout{10000};

struct ChannelOptions {
  // A gRPC target: "host:port", "dns:///host:port", "ipv4:127.0.0.1:1,127.0.0.1:2", "unix:...".
  std::string target;
  // The API key sent on every call; the process's default key (auth::DefaultApiKey()) when
  // unset, nothing when "".
  std::optional<std::string> api_key;
  // Credentials; the process's default (auth::DefaultChannelCredentials()) when null.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  int max_message_bytes = kDefaultMaxMessageBytes;
  bool retry_unavailable = true;
  bool keepalive = true;
};

// The service config MakeChannel() sets (JSON).
std::string DefaultServiceConfigJson();
// The channel arguments MakeChannel() uses (exposed for tests and for callers that need to add
// one of their own before MakeChannel(options, args)).
grpc::ChannelArguments DefaultChannelArguments(const ChannelOptions& options);

std::shared_ptr<grpc::Channel> MakeChannel(const ChannelOptions& options);
// With `args` in place of DefaultChannelArguments(options) (start from that to keep them).
std::shared_ptr<grpc::Channel> MakeChannel(const ChannelOptions& options,
                                           const grpc::ChannelArguments& args);
// MakeChannel({.target = target}).
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target);

// Routes gRPC core's own log lines (gpr_log: what GRPC_VERBOSITY lets through, ERROR by
// default) through common/logging.h with their severity, as field logger=grpc, instead of
// gRPC's own format on stderr. Idempotent; ServiceHost::Create() calls it.
void RouteGrpcLogsToStructuredLog();

// Server side of the keepalive convention: accept a ping every 20 s (less than kKeepaliveTime)
// also without calls, instead of gRPC's default of one per 5 minutes.
void ApplyServerKeepalive(grpc::ServerBuilder* builder);

enum class CallKind {
  kInference,  // one image or text through a model (Detect, AnalyzeFaces, Classify, ...)
  kIndexed,    // a collection operation that also runs inference (IndexFaces, SearchFacesByImage)
  kControl,    // small metadata calls (health, keys, stream configuration)
  kStream,     // long-lived streams: no deadline by default (time_point::max())
};
std::chrono::milliseconds DefaultTimeout(CallKind kind);

// While alive, SetDeadline() on this thread caps outgoing deadlines at `incoming`'s deadline.
// For a synchronous gRPC handler that calls other services on its own thread:
//   grpc::Status Classify(grpc::ServerContext* ctx, ...) { IncomingDeadlineScope scope(ctx); ...
class IncomingDeadlineScope {
 public:
  explicit IncomingDeadlineScope(const grpc::ServerContext* incoming);
  explicit IncomingDeadlineScope(std::chrono::system_clock::time_point deadline);
  ~IncomingDeadlineScope();
  IncomingDeadlineScope(const IncomingDeadlineScope&) = delete;
  IncomingDeadlineScope& operator=(const IncomingDeadlineScope&) = delete;

 private:
  std::optional<std::chrono::system_clock::time_point> previous_;
};

// now + timeout, capped at `incoming`'s deadline (or, when null, the IncomingDeadlineScope's).
std::chrono::system_clock::time_point OutgoingDeadline(
    std::chrono::milliseconds timeout, const grpc::ServerContext* incoming = nullptr);
void SetDeadline(grpc::ClientContext* ctx, std::chrono::milliseconds timeout,
                 const grpc::ServerContext* incoming = nullptr);
inline void SetDeadline(grpc::ClientContext* ctx, CallKind kind,
                        const grpc::ServerContext* incoming = nullptr) {
  SetDeadline(ctx, DefaultTimeout(kind), incoming);
}

}  // namespace stratus

#endif  // STRATUS_COMMON_GRPC_CHANNEL_H_
