#include "common/aws/json_protocol.h"

#include <pthread.h>
#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/logging.h"
#include "common/trace.h"

namespace stratus::aws {
namespace {

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// JSON text for a response; invalid UTF-8 in strings is replaced rather than thrown on.
std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The deepest nesting of objects and arrays in JSON text, strings skipped; stops counting once
// past `limit`. Requests are checked before parsing: nlohmann's parser is iterative, but copying,
// comparing and dumping a json value recurse, and handler threads have bounded stacks.
int JsonDepth(absl::string_view text, int limit) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      max_depth = std::max(max_depth, ++depth);
      if (max_depth > limit) return max_depth;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return max_depth;
}

bool AcceptedContentType(absl::string_view content_type) {
  absl::string_view media = content_type.substr(0, content_type.find(';'));
  std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(media));
  return lower == "application/x-amz-json-1.1" || lower == "application/x-amz-json-1.0";
}

}  // namespace

// Fixed threads with explicit stack sizes (std::thread cannot set one).
class AwsJsonEndpoint::Pool {
 public:
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (pthread_t t : threads_) pthread_join(t, nullptr);
  }

  absl::Status Start(int threads, size_t stack_bytes) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    int rc = pthread_attr_setstacksize(&attr, stack_bytes);
    for (int i = 0; rc == 0 && i < threads; ++i) {
      pthread_t t;
      rc = pthread_create(&t, &attr, &Pool::Main, this);
      if (rc == 0) threads_.push_back(t);
    }
    pthread_attr_destroy(&attr);
    if (rc != 0) {
      return absl::InternalError(
          absl::StrCat("cannot start AWS handler threads: ", std::strerror(rc)));
    }
    return absl::OkStatus();
  }

  // Runs `fn` on a pool thread and waits for it; rethrows what it throws.
  void Run(const std::function<void()>& fn) {
    std::promise<void> done;
    std::future<void> f = done.get_future();
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back([&fn, &done] {
        try {
          fn();
          done.set_value();
        } catch (...) {
          done.set_exception(std::current_exception());
        }
      });
    }
    cv_.notify_one();
    f.get();
  }

 private:
  static void* Main(void* self_ptr) {
    auto* self = static_cast<Pool*>(self_ptr);
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(self->mu_);
        self->cv_.wait(lock, [self] { return self->stop_ || !self->queue_.empty(); });
        if (self->queue_.empty()) return nullptr;  // stopping and drained
        task = std::move(self->queue_.front());
        self->queue_.pop_front();
      }
      task();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  std::vector<pthread_t> threads_;
};

absl::StatusOr<std::unique_ptr<AwsJsonEndpoint>> AwsJsonEndpoint::Create(const Options& options) {
  if (options.require_signature && options.credentials == nullptr) {
    return absl::InvalidArgumentError(
        "AwsJsonEndpoint: require_signature needs a CredentialsStore");
  }
  if (options.handler_threads < 0) {
    return absl::InvalidArgumentError("AwsJsonEndpoint: handler_threads must be >= 0");
  }
  std::unique_ptr<AwsJsonEndpoint> endpoint(new AwsJsonEndpoint(options));
  if (options.handler_threads > 0) {
    endpoint->pool_ = std::make_unique<Pool>();
    absl::Status s = endpoint->pool_->Start(options.handler_threads,
                                            std::max<size_t>(options.handler_stack_bytes, 1 << 20));
    if (!s.ok()) return s;
  }
  return endpoint;
}

AwsJsonEndpoint::~AwsJsonEndpoint() = default;

HttpResponse AwsJsonEndpoint::HandleOnPool(const HttpRequest& request) const {
  if (!pool_) return Handle(request);
  HttpResponse response;
  // The request's trace goes with it to the pool thread (it lives here until Run returns).
  const trace::TraceContext* current = trace::Current();
  pool_->Run([&] {
    std::optional<trace::TraceScope> scope;
    if (current != nullptr) scope.emplace(*current);
    response = Handle(request);
  });
  return response;
}

AwsJsonEndpoint::AwsJsonEndpoint(const Options& options) : options_(options) {
  if (options_.require_signature) verifier_.emplace(options_.credentials, options_.sigv4);
  if (options_.metrics != nullptr) {
    requests_ = &metrics::BuildCounter()
                     .Name("stratus_aws_requests_total")
                     .Help(
                         "AWS JSON protocol requests by X-Amz-Target and outcome (ok or the "
                         "AWS exception name).")
                     .Register(*options_.metrics);
    latency_ = &metrics::BuildHistogram()
                    .Name("stratus_aws_request_duration_seconds")
                    .Help("AWS JSON protocol request latency by X-Amz-Target.")
                    .Register(*options_.metrics);
  }
}

void AwsJsonEndpoint::Register(const std::string& target, Handler handler) {
  handlers_[target] = Route{.json = std::move(handler), .body = nullptr};
}

void AwsJsonEndpoint::RegisterBody(const std::string& target, BodyHandler handler) {
  handlers_[target] = Route{.json = nullptr, .body = std::move(handler)};
}

void AwsJsonEndpoint::Install(HttpServer* server, const std::string& path) {
  server->Handle(path, [this](const HttpRequest& r) { return HandleOnPool(r); });
}

void AwsJsonEndpoint::Count(const std::string& target_label, const std::string& code,
                            std::chrono::steady_clock::time_point start) const {
  if (requests_ == nullptr) return;
  requests_->Add({{"target", target_label}, {"code", code}}).Increment();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  latency_->Add({{"target", target_label}}, metrics::LatencyBuckets()).Observe(seconds);
}

HttpResponse AwsJsonEndpoint::Error(const AwsErrorInfo& error, const std::string& target_label,
                                    std::chrono::steady_clock::time_point start) const {
  HttpResponse r;
  r.status = error.http_status;
  r.content_type = kAmzJson11;
  r.body = Dump(nlohmann::json{{"__type", error.type}, {"message", error.message}});
  r.headers.emplace_back("x-amzn-ErrorType", error.type);
  Count(target_label, error.type, start);
  return r;
}

HttpResponse AwsJsonEndpoint::Handle(const HttpRequest& request) const {
  auto start = std::chrono::steady_clock::now();
  // HttpServer made the request's trace current; called another way, the endpoint starts it.
  std::optional<trace::TraceScope> own_trace;
  if (trace::Current() == nullptr) {
    own_trace.emplace(trace::ServerContextFor(request.Header(trace::kTraceparentHeader)));
  }
  const trace::TraceContext& trace_context = *trace::Current();
  // The request id is the trace id: what the client sees is what every log line carries.
  const std::string& request_id = trace_context.trace_id;
  std::string access_key_id;
  std::string target = request.Header("x-amz-target");
  auto handler = handlers_.find(target);
  // Only registered targets become label values: the label set stays bounded.
  std::string target_label = handler == handlers_.end() ? "unknown" : target;

  HttpResponse response = [&]() -> HttpResponse {
    if (request.method != "POST") {
      HttpResponse r = Error({405, "UnknownOperationException",
                              absl::StrCat("method ", request.method,
                                           " not allowed; the AWS JSON protocol uses POST")},
                             target_label, start);
      r.headers.emplace_back("Allow", "POST");
      return r;
    }
    if (verifier_) {
      absl::StatusOr<SigV4Identity> id = verifier_->Verify(request);
      if (!id.ok()) return Error(ToAwsError(id.status(), options_.errors), target_label, start);
      access_key_id = id->access_key_id;
    }
    if (handler == handlers_.end()) {
      return Error({400, "UnknownOperationException",
                    target.empty() ? "missing X-Amz-Target header"
                                   : absl::StrCat("unknown operation: ", target)},
                   target_label, start);
    }
    if (!AcceptedContentType(request.Header("content-type"))) {
      return Error({400, "SerializationException",
                    absl::StrCat("Content-Type must be ", kAmzJson11, ", got '",
                                 request.Header("content-type"), "'")},
                   target_label, start);
    }
    const absl::string_view stripped = absl::StripAsciiWhitespace(request.body);
    const std::string_view text(stripped.data(), stripped.size());
    if (!text.empty() && JsonDepth(request.body, kMaxJsonDepth) > kMaxJsonDepth) {
      return Error({400, "SerializationException",
                    absl::StrCat("request JSON is nested deeper than ", kMaxJsonDepth, " levels")},
                   target_label, start);
    }
    nlohmann::json body = nlohmann::json::object();
    if (handler->second.body != nullptr) {
      if (!text.empty() && text.front() != '{') {
        return Error({400, "SerializationException", "request body must be a JSON object"},
                     target_label, start);
      }
    } else if (!text.empty()) {
      body = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
      if (body.is_discarded()) {
        return Error({400, "SerializationException", "request body is not valid JSON"},
                     target_label, start);
      }
      if (!body.is_object()) {
        return Error({400, "SerializationException", "request body must be a JSON object"},
                     target_label, start);
      }
    }
    absl::StatusOr<nlohmann::json> result;
    try {
      result = handler->second.body != nullptr
                   ? handler->second.body(text.empty() ? std::string_view("{}") : text)
                   : handler->second.json(body);
    } catch (const nlohmann::json::exception& e) {
      // A handler reading a missing or mistyped member with at()/get<T>(): bad input.
      result = AwsError(400, "SerializationException", e.what());
    } catch (const std::exception& e) {
      SLOG(ERROR) << "aws handler threw" << Kv("target", target) << Kv("error", e.what())
                  << Kv("request_id", request_id);
      result = absl::InternalError("internal error");
    }
    if (!result.ok()) {
      AwsErrorInfo info = ToAwsError(result.status(), options_.errors);
      if (info.http_status >= 500) {
        SLOG(ERROR) << "aws handler failed" << Kv("target", target)
                    << Kv("error", result.status().ToString()) << Kv("request_id", request_id);
      }
      return Error(info, target_label, start);
    }
    HttpResponse r;
    r.status = 200;
    r.content_type = kAmzJson11;
    r.body = result->is_null() ? "{}" : Dump(*result);
    Count(target_label, "ok", start);
    return r;
  }();
  response.headers.emplace_back("x-amzn-RequestId", request_id);
  // The SDKs correct their clock skew from this header after a "Signature expired" answer.
  response.headers.emplace_back("Date", HttpDate(absl::Now()));
  if (AccessLogEnabled()) {
    std::string error_type;
    for (const auto& [name, value] : response.headers) {
      if (name == "x-amzn-ErrorType") error_type = value;
    }
    std::vector<Kv> fields;
    fields.reserve(10);
    fields.emplace_back("logger", "access");
    // The X-Amz-Target as sent (bounded: it comes from the client).
    fields.emplace_back("operation", target.substr(0, 128));
    fields.emplace_back("status", response.status);
    fields.emplace_back("error", error_type.empty() ? "-" : error_type);
    fields.emplace_back(
        "duration_ms",
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
    if (!access_key_id.empty()) fields.emplace_back("key_id", access_key_id);
    fields.emplace_back("peer", request.remote_address);
    AddTraceFields(trace_context, &fields);
    EmitLogLine(LogLevel::kInfo, nullptr, 0, "aws request", std::move(fields));
  }
  return response;
}

absl::StatusOr<HttpResult> AwsJsonCall(const AwsJsonClientOptions& options,
                                       const std::string& target, const nlohmann::json& request) {
  std::string endpoint = options.endpoint;
  while (absl::EndsWith(endpoint, "/")) endpoint.pop_back();
  const bool https = absl::StartsWith(endpoint, "https://");
  if (!https && !absl::StartsWith(endpoint, "http://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("endpoint must be http(s)://host:port, got ", options.endpoint));
  }
  std::string hostport = endpoint.substr(https ? 8 : 7);
  if (hostport.empty() || hostport.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "endpoint must be http(s)://host:port without a path, got ", options.endpoint));
  }
  std::string body = Dump(request);
  std::map<std::string, std::string> headers = {
      {"host", hostport}, {"content-type", kAmzJson11}, {"x-amz-target", target}};
  if (absl::Status s = SignRequest(options.signing, "POST", "/", "", body, &headers); !s.ok()) {
    return s;
  }
  headers.erase("host");  // HttpFetch sends Host itself, with the same value
  return HttpFetch("POST", endpoint + "/", headers, body, options.timeout);
}

namespace internal {

absl::Status MissingMember(const std::string& name) {
  return absl::InvalidArgumentError(absl::StrCat("1 validation error detected: Value null at '",
                                                 name,
                                                 "' failed to satisfy constraint: Member "
                                                 "must not be null"));
}

absl::Status NotAnObject(const std::string& name) {
  return AwsError(400, "SerializationException",
                  absl::StrCat("expected a structure holding '", name, "'"));
}

namespace {
absl::Status WrongType(const std::string& name, const nlohmann::json& value,
                       absl::string_view expected) {
  return AwsError(400, "SerializationException",
                  absl::StrCat("'", name, "' must be ", expected, ", got ", value.type_name()));
}
}  // namespace

absl::Status Convert(const nlohmann::json& v, const std::string& name, std::string* out) {
  if (!v.is_string()) return WrongType(name, v, "a string");
  *out = v.get<std::string>();
  return absl::OkStatus();
}

absl::Status Convert(const nlohmann::json& v, const std::string& name, bool* out) {
  if (!v.is_boolean()) return WrongType(name, v, "a boolean");
  *out = v.get<bool>();
  return absl::OkStatus();
}

absl::Status Convert(const nlohmann::json& v, const std::string& name, int64_t* out) {
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return WrongType(name, v, "a 64-bit integer");
    }
    *out = static_cast<int64_t>(v.get<uint64_t>());
    return absl::OkStatus();
  }
  if (!v.is_number_integer()) return WrongType(name, v, "an integer");
  *out = v.get<int64_t>();
  return absl::OkStatus();
}

absl::Status Convert(const nlohmann::json& v, const std::string& name, int* out) {
  int64_t wide = 0;
  if (absl::Status s = Convert(v, name, &wide); !s.ok()) return s;
  if (wide < INT32_MIN || wide > INT32_MAX) return WrongType(name, v, "a 32-bit integer");
  *out = static_cast<int>(wide);
  return absl::OkStatus();
}

absl::Status Convert(const nlohmann::json& v, const std::string& name, double* out) {
  if (!v.is_number()) return WrongType(name, v, "a number");
  *out = v.get<double>();
  return absl::OkStatus();
}

absl::Status Convert(const nlohmann::json& v, const std::string& name, nlohmann::json* out) {
  *out = v;
  return absl::OkStatus();
}

absl::Status Convert(const nlohmann::json& v, const std::string& name,
                     std::vector<std::string>* out) {
  if (!v.is_array()) return WrongType(name, v, "a list of strings");
  out->clear();
  for (const auto& e : v) {
    if (!e.is_string()) return WrongType(name, v, "a list of strings");
    out->push_back(e.get<std::string>());
  }
  return absl::OkStatus();
}

absl::Status Convert(const nlohmann::json& v, const std::string& name,
                     std::vector<nlohmann::json>* out) {
  if (!v.is_array()) return WrongType(name, v, "a list");
  out->assign(v.begin(), v.end());
  return absl::OkStatus();
}

}  // namespace internal

std::string Base64Encode(absl::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kBase64Alphabet[v >> 18]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(kBase64Alphabet[(v >> 6) & 63]);
    out.push_back(kBase64Alphabet[v & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out.push_back(kBase64Alphabet[v >> 18]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kBase64Alphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

absl::StatusOr<std::string> Base64Decode(absl::string_view text) {
  static const auto* table = [] {
    auto* t = new std::array<int8_t, 256>;
    t->fill(-1);
    for (int i = 0; i < 64; ++i) (*t)[static_cast<unsigned char>(kBase64Alphabet[i])] = i;
    return t;
  }();
  if (text.size() % 4 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid base64: length ", text.size(), " is not a multiple of 4"));
  }
  size_t pad = 0;
  if (!text.empty() && text.back() == '=')
    pad = (text.size() >= 2 && text[text.size() - 2] == '=') ? 2 : 1;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    int v[4];
    for (int k = 0; k < 4; ++k) {
      char c = text[i + k];
      if (last && k >= 4 - static_cast<int>(pad)) {
        v[k] = 0;
        continue;
      }
      v[k] = (*table)[static_cast<unsigned char>(c)];
      if (v[k] < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid base64: unexpected character at offset ", i + k));
      }
    }
    uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out.push_back(static_cast<char>(n >> 16));
    if (!(last && pad == 2)) out.push_back(static_cast<char>((n >> 8) & 0xff));
    if (!(last && pad >= 1)) out.push_back(static_cast<char>(n & 0xff));
    if (last && pad == 2 && (v[1] & 15) != 0) {
      return absl::InvalidArgumentError("invalid base64: non-zero padding bits");
    }
    if (last && pad == 1 && (v[2] & 3) != 0) {
      return absl::InvalidArgumentError("invalid base64: non-zero padding bits");
    }
  }
  return out;
}

std::string NewUuidV4() {
  unsigned char b[16];
  size_t got = 0;
  while (got < sizeof(b)) {
    ssize_t r = getrandom(b + got, sizeof(b) - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      // No kernel randomness: fall back to a time-derived value rather than failing a request
      // (request ids only need to be unique enough for log correlation).
      uint64_t t = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
      for (size_t i = got; i < sizeof(b); ++i)
        b[i] = static_cast<unsigned char>(t >> (8 * (i % 8)));
      break;
    }
    got += static_cast<size_t>(r);
  }
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  std::string hex = HexEncode(absl::string_view(reinterpret_cast<const char*>(b), sizeof(b)));
  return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4), "-",
                      hex.substr(16, 4), "-", hex.substr(20));
}

std::string HttpDate(absl::Time t) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", t, absl::UTCTimeZone());
}

}  // namespace stratus::aws
