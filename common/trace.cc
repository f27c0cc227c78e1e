#include "common/trace.h"

#include <errno.h>
#include <sys/random.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace stratus::trace {
namespace {

thread_local const TraceContext* t_current = nullptr;

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool AllLowerHex(std::string_view s) {
  for (char c : s) {
    if (!IsLowerHex(c)) return false;
  }
  return true;
}

bool AllZero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

int HexValue(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

void FillRandom(unsigned char* out, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t got = getrandom(out + done, n - done, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      // getrandom cannot fail on Linux >= 3.17 once the pool is initialised; ids that repeat
      // would silently merge unrelated requests, so refuse to go on.
      std::perror("getrandom");
      std::abort();
    }
    done += static_cast<size_t>(got);
  }
}

}  // namespace

std::optional<TraceContext> ParseTraceparent(std::string_view value) {
  // version "-" trace-id "-" parent-id "-" trace-flags
  constexpr size_t kLength = 2 + 1 + 32 + 1 + 16 + 1 + 2;  // 55
  if (value.size() < kLength) return std::nullopt;
  std::string_view version = value.substr(0, 2);
  if (!AllLowerHex(version) || version == "ff") return std::nullopt;
  if (version == "00" ? value.size() != kLength
                      : value.size() > kLength && value[kLength] != '-') {
    return std::nullopt;
  }
  if (value[2] != '-' || value[35] != '-' || value[52] != '-') return std::nullopt;
  std::string_view trace_id = value.substr(3, 32);
  std::string_view parent_id = value.substr(36, 16);
  std::string_view flags = value.substr(53, 2);
  if (!AllLowerHex(trace_id) || !AllLowerHex(parent_id) || !AllLowerHex(flags)) {
    return std::nullopt;
  }
  if (AllZero(trace_id) || AllZero(parent_id)) return std::nullopt;
  TraceContext context;
  context.trace_id = std::string(trace_id);
  context.span_id = std::string(parent_id);
  context.flags = static_cast<uint8_t>(HexValue(flags[0]) * 16 + HexValue(flags[1]));
  return context;
}

std::string FormatTraceparent(const TraceContext& context) {
  char flags[3];
  std::snprintf(flags, sizeof(flags), "%02x", context.flags & 0x01);
  std::string out;
  out.reserve(55);
  out.append("00-").append(context.trace_id).append("-").append(context.span_id).append("-");
  out.append(flags);
  return out;
}

std::string RandomHexId(size_t bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  unsigned char raw[32];
  if (bytes > sizeof(raw)) bytes = sizeof(raw);
  std::string out(2 * bytes, '0');
  do {
    FillRandom(raw, bytes);
    for (size_t i = 0; i < bytes; ++i) {
      out[2 * i] = kDigits[raw[i] >> 4];
      out[2 * i + 1] = kDigits[raw[i] & 0x0f];
    }
  } while (AllZero(out));  // all zeros means "invalid" to the specification
  return out;
}

TraceContext NewTrace() {
  TraceContext context;
  context.trace_id = RandomHexId(16);
  context.span_id = RandomHexId(8);
  context.flags = 0x01;
  return context;
}

TraceContext ChildOf(const TraceContext& parent) {
  TraceContext child;
  child.trace_id = parent.trace_id;
  child.span_id = RandomHexId(8);
  child.parent_span_id = parent.span_id;
  child.flags = parent.flags;
  return child;
}

TraceContext ServerContextFor(std::string_view traceparent_value) {
  if (std::optional<TraceContext> parent = ParseTraceparent(traceparent_value)) {
    return ChildOf(*parent);
  }
  return NewTrace();
}

const TraceContext* Current() { return t_current; }

TraceContext CurrentOrNew() { return t_current != nullptr ? *t_current : NewTrace(); }

TraceScope::TraceScope(TraceContext context)
    : context_(std::move(context)), previous_(t_current) {
  t_current = &context_;
}

TraceScope::~TraceScope() { t_current = previous_; }

}  // namespace stratus::trace
