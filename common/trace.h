// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` header, new ids,
// and the context of the request the current thread is serving.
//
//   traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
//                ^^ ^^^^^^^^ trace id (32 hex) ^^^^^^ ^^ parent span id ^^ flags (01: sampled)
//
// Stratus keeps no spans of its own; it carries the ids so that every log line of a request, its
// access log line and the answer's request id (AWS endpoints: x-amzn-RequestId) name the same
// trace, across services. Servers (ServiceHost's gRPC interceptor, HttpServer) make a context
// current for each call: a child of the caller's traceparent (same trace id, a new span id) or,
// without one or with an invalid one, a new trace. Channels from MakeChannel() send the current
// context on every outgoing call (common/grpc_channel.h).
//
// The current context is per thread: work handed to another thread carries it with
//   trace::TraceContext ctx = trace::CurrentOrNew();  ... pool.Run([ctx] { TraceScope s(ctx); ... });
#ifndef STRATUS_COMMON_TRACE_H_
#define STRATUS_COMMON_TRACE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stratus::trace {

inline constexpr char kTraceparentHeader[] = "traceparent";  // lower case, as gRPC and HTTP/2 want

struct TraceContext {
  std::string trace_id;        // 32 lowercase hex digits, not all zero
  std::string span_id;         // 16 lowercase hex digits, not all zero: this hop's span
  std::string parent_span_id;  // the caller's span ("" when this context started the trace)
  uint8_t flags = 0;           // bit 0: sampled

  bool sampled() const { return (flags & 0x01) != 0; }
};

// Parses a traceparent value as the specification says a receiver must:
//   - version: two lowercase hex digits, not "ff"; version 00 is exactly 55 characters; a
//     higher version is parsed as 00 when its first 55 characters are, and either ends there or
//     goes on with '-' (fields a later version may add are ignored);
//   - trace id and parent id: lowercase hex (uppercase is refused), not all zeros;
//   - flags: two lowercase hex digits.
// The result has the header's trace id and flags; its span_id is the header's parent id (the
// sender's span), parent_span_id "". nullopt for anything else.
std::optional<TraceContext> ParseTraceparent(std::string_view value);

// "00-<trace_id>-<span_id>-<flags>": the value to send on a call made in `context`'s span.
// Only the flags version 00 defines (sampled) are kept.
std::string FormatTraceparent(const TraceContext& context);

// `size` random bytes as 2*size lowercase hex digits, never all zeros (getrandom(2): no shared
// generator state, safe across threads and fork()).
std::string RandomHexId(size_t bytes);

// A new trace: random trace id and span id, sampled (Stratus logs every request).
TraceContext NewTrace();
// The context of work done on behalf of `parent`: same trace id and flags, a new span id,
// parent_span_id = parent.span_id.
TraceContext ChildOf(const TraceContext& parent);
// ChildOf(ParseTraceparent(value)) when `value` parses, else NewTrace(): what a server makes
// current for a call that arrived with `value` ("" when it had none).
TraceContext ServerContextFor(std::string_view traceparent_value);

// The context made current on this thread by the innermost live TraceScope; null when none.
const TraceContext* Current();
// A copy of Current(), or NewTrace() when none.
TraceContext CurrentOrNew();

// Makes `context` (copied) current on this thread for the scope's lifetime, then restores the
// previous one. Scopes nest; create and destroy a scope on the same thread.
class TraceScope {
 public:
  explicit TraceScope(TraceContext context);
  ~TraceScope();
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;

  const TraceContext& context() const { return context_; }

 private:
  TraceContext context_;
  const TraceContext* previous_;
};

}  // namespace stratus::trace

#endif  // STRATUS_COMMON_TRACE_H_
