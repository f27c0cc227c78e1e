// The AWS JSON 1.1 protocol on an HttpServer: `POST /` with `X-Amz-Target: <Prefix>.<Operation>`,
// `Content-Type: application/x-amz-json-1.1`, a JSON object body, SigV4-signed; answers are
// JSON objects, errors `{"__type": "<Exception>", "message": "..."}` with the exception's HTTP
// status and an `x-amzn-ErrorType` header, every answer with `x-amzn-RequestId` and `Date`.
// This is what @aws-sdk/client-rekognition and @aws-sdk/client-comprehend speak.
// The request id is the request's trace id (common/trace.h: the trace id of the request's
// `traceparent` header, or of a new trace), so it matches the trace_id of the request's log
// lines, including its access log line (logger "access": operation, status, error,
// duration_ms, key_id (the SigV4 access key id), peer, trace_id, span_id, parent_span_id).
//
// ---- Usage (a service's main.cc or its HTTP adapter) ----
//
//   #include "common/aws/json_protocol.h"
//   namespace aws = stratus::aws;
//
//   // Once, at start-up (see common/aws/credentials.h for LoadCredentials):
//   aws::CredentialsStore credentials;
//   STRATUS_RETURN_IF_ERROR(credentials.Add(creds));
//
//   aws::AwsJsonEndpoint::Options opts;
//   opts.credentials = &credentials;             // not owned; outlives the endpoint
//   opts.sigv4.service = "rekognition";          // the SigV4 scope the SDK signs with
//   opts.errors = aws::RekognitionErrorDefaults();  // or ComprehendErrorDefaults()
//   opts.metrics = &host->metrics();             // stratus_aws_requests_total{target,code}
//   STRATUS_ASSIGN_OR_RETURN(auto endpoint, aws::AwsJsonEndpoint::Create(opts));
//
//   endpoint->Register("RekognitionService.DetectFaces",
//       [&core](const nlohmann::json& req) -> absl::StatusOr<nlohmann::json> {
//         // Missing -> InvalidParameterException (via `errors`); wrong type ->
//         // SerializationException.
//         STRATUS_ASSIGN_OR_RETURN(nlohmann::json image,
//                                  aws::RequiredMember<nlohmann::json>(req, "Image"));
//         STRATUS_ASSIGN_OR_RETURN(std::string b64,
//                                  aws::RequiredMember<std::string>(image, "Bytes"));
//         absl::StatusOr<std::string> bytes = aws::Base64Decode(b64);
//         if (!bytes.ok()) {
//           return aws::AwsError(400, "InvalidImageFormatException", "Invalid image encoding");
//         }
//         STRATUS_ASSIGN_OR_RETURN(auto attrs, aws::OptionalMember<std::vector<std::string>>(
//                                                  req, "Attributes", {"DEFAULT"}));
//         // Plain statuses from the core are mapped by `errors`.
//         STRATUS_ASSIGN_OR_RETURN(auto faces, core.DetectFaces(*bytes, attrs));
//         return nlohmann::json{{"FaceDetails", ToJson(faces)}};
//       });
//   endpoint->Install(host->http());             // routes "/" ; before host->Start()
//
// Handlers run on the HTTP server's connection threads (8 MiB stacks; see common/http_server.h),
// or on a bounded pool of the endpoint's own when Options::handler_threads is set,
// concurrently, and must be thread-safe. A handler's error is sent as described in common/aws/aws_error.h: AwsError(...) names the
// exception; a plain absl::Status is mapped by Options::errors (INVALID_ARGUMENT ->
// InvalidParameterException 400 for Rekognition, InvalidRequestException for Comprehend, ...).
// A handler that throws nlohmann::json::exception (e.g. `req.at("X").get<int>()` on a missing
// or mistyped member) gets SerializationException 400: that is bad input, not a server fault.
// Any other exception gets the INTERNAL mapping (InternalServerError 500), logged, with no
// internals in the message.
//
// Checks, in order (each failure is counted under its exception name):
//   method not POST                          405, `{"__type": "UnknownOperationException"}`
//   SigV4 (unless Options::require_signature is false; see common/aws/sigv4.h)
//   X-Amz-Target missing or not registered   UnknownOperationException 400
//   Content-Type not application/x-amz-json-1.1 (or 1.0)   SerializationException 400
//   body not a JSON object (empty = {}), or nested deeper than kMaxJsonDepth
//                                            SerializationException 400
//
// Thread safety: Register()/Install() before serving; Handle() is then safe concurrently.
#ifndef STRATUS_COMMON_AWS_JSON_PROTOCOL_H_
#define STRATUS_COMMON_AWS_JSON_PROTOCOL_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/aws/aws_error.h"
#include "common/aws/credentials.h"
#include "common/aws/sigv4.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "common/metrics.h"

namespace stratus::aws {

inline constexpr char kAmzJson11[] = "application/x-amz-json-1.1";
// Request bodies nested deeper than this are refused (SerializationException) before parsing;
// AWS request shapes are a few levels deep.
inline constexpr int kMaxJsonDepth = 64;

class AwsJsonEndpoint {
 public:
  using Handler = std::function<absl::StatusOr<nlohmann::json>(const nlohmann::json& request)>;
  // Gets the request body as sent ("{}" when empty), for operations that parse it into a proto
  // themselves (one parse: services/recognition/aws_json.h). The endpoint has checked the
  // content type, the depth and that the body starts as a JSON object; the handler reports
  // malformed JSON.
  using BodyHandler = std::function<absl::StatusOr<nlohmann::json>(std::string_view body)>;

  struct Options {
    // Access keys to verify signatures against; not owned, must outlive the endpoint.
    // Required when require_signature is true.
    const CredentialsStore* credentials = nullptr;
    // Verify SigV4. Turn off only in tests of handler logic.
    bool require_signature = true;
    // Scope and clock for verification (service "" accepts any; set it, e.g. "rekognition").
    SigV4Verifier::Options sigv4;
    // How plain absl statuses map to AWS exceptions.
    AwsErrorDefaults errors = RekognitionErrorDefaults();
    // Where to count requests (stratus_aws_requests_total{target,code}) and time them
    // (stratus_aws_request_duration_seconds{target}); null: not counted. Not owned.
    metrics::Registry* metrics = nullptr;
    // 0: requests routed by Install() run on the HTTP server's connection thread that read
    // them, as many at once as there are connections. N: on N threads of the endpoint's own
    // (with `handler_stack_bytes` of stack each), which bounds how many run at once; the others
    // wait.
    int handler_threads = 0;
    size_t handler_stack_bytes = 8 << 20;
  };

  // INVALID_ARGUMENT when require_signature is set without credentials; INTERNAL when the
  // handler threads cannot be started.
  static absl::StatusOr<std::unique_ptr<AwsJsonEndpoint>> Create(const Options& options);

  // `target` is the full X-Amz-Target value, e.g. "RekognitionService.DetectFaces" or
  // "Comprehend_20171127.DetectSentiment". A second registration replaces the first.
  void Register(const std::string& target, Handler handler);
  void RegisterBody(const std::string& target, BodyHandler handler);

  // Routes `path` (AWS uses "/") of `server` to this endpoint, running requests on the
  // endpoint's handler threads. The endpoint must outlive the server's serving.
  void Install(HttpServer* server, const std::string& path = "/");

  // The whole request -> response step, on the calling thread.
  HttpResponse Handle(const HttpRequest& request) const;
  // Handle() on one of the handler threads (the calling thread when handler_threads is 0);
  // blocks until done. What Install() routes to.
  HttpResponse HandleOnPool(const HttpRequest& request) const;

  ~AwsJsonEndpoint();

 private:
  explicit AwsJsonEndpoint(const Options& options);
  HttpResponse Error(const AwsErrorInfo& error, const std::string& target_label,
                     std::chrono::steady_clock::time_point start) const;
  void Count(const std::string& target_label, const std::string& code,
             std::chrono::steady_clock::time_point start) const;

  class Pool;
  Options options_;
  std::unique_ptr<Pool> pool_;
  std::optional<SigV4Verifier> verifier_;
  struct Route {
    Handler json;      // one of the two is set
    BodyHandler body;
  };
  std::map<std::string, Route> handlers_;
  metrics::Family<metrics::Counter>* requests_ = nullptr;
  metrics::Family<metrics::Histogram>* latency_ = nullptr;
};

// ---- Client side (tests, CLI): a signed AWS JSON 1.1 call over common/http_client ----

struct AwsJsonClientOptions {
  std::string endpoint = "http://localhost:8083";  // http(s)://host:port, no path
  SigningParams signing;  // credentials, region, service; time InfinitePast = now
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
};

// POSTs `request` to `target` and returns the raw HTTP result (status, headers, body), so
// callers can check error shapes; transport errors as HttpFetch.
absl::StatusOr<HttpResult> AwsJsonCall(const AwsJsonClientOptions& options,
                                       const std::string& target, const nlohmann::json& request);

// ---- Reading request members ----
//
// AWS treats a member set to null as absent. A required member that is absent gets
// INVALID_ARGUMENT with AWS's validation wording ("1 validation error detected: Value null at
// 'Image' failed to satisfy constraint: Member must not be null"), which the endpoint maps
// through Options::errors; a member of the wrong JSON type gets SerializationException 400.
// T is one of: std::string, bool, int, int64_t, double (any number), nlohmann::json (any
// non-null value), std::vector<std::string>, std::vector<nlohmann::json> (an array).
template <typename T>
absl::StatusOr<T> RequiredMember(const nlohmann::json& object, const std::string& name);
template <typename T>
absl::StatusOr<T> OptionalMember(const nlohmann::json& object, const std::string& name,
                                 T default_value);

// ---- Helpers ----

// Standard base64 (RFC 4648, '+' '/', '=' padding), as AWS sends blobs such as Image.Bytes.
std::string Base64Encode(absl::string_view bytes);
// Strict: INVALID_ARGUMENT for characters outside the alphabet (whitespace included), a length
// that is not a multiple of 4, misplaced padding, or non-zero padding bits.
absl::StatusOr<std::string> Base64Decode(absl::string_view text);

// A random (version 4) UUID, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", lower case.
std::string NewUuidV4();

// RFC 7231 date ("Thu, 26 Nov 2026 08:30:00 GMT"), as in the Date header.
std::string HttpDate(absl::Time t);

namespace internal {
// OK and sets *out when `value` has the out type's JSON type; SerializationException otherwise.
absl::Status Convert(const nlohmann::json& value, const std::string& name, std::string* out);
absl::Status Convert(const nlohmann::json& value, const std::string& name, bool* out);
absl::Status Convert(const nlohmann::json& value, const std::string& name, int* out);
absl::Status Convert(const nlohmann::json& value, const std::string& name, int64_t* out);
absl::Status Convert(const nlohmann::json& value, const std::string& name, double* out);
absl::Status Convert(const nlohmann::json& value, const std::string& name, nlohmann::json* out);
absl::Status Convert(const nlohmann::json& value, const std::string& name,
                     std::vector<std::string>* out);
absl::Status Convert(const nlohmann::json& value, const std::string& name,
                     std::vector<nlohmann::json>* out);
absl::Status MissingMember(const std::string& name);
absl::Status NotAnObject(const std::string& name);
}  // namespace internal

template <typename T>
absl::StatusOr<T> RequiredMember(const nlohmann::json& object, const std::string& name) {
  if (!object.is_object()) return internal::NotAnObject(name);
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return internal::MissingMember(name);
  T out;
  absl::Status s = internal::Convert(*it, name, &out);
  if (!s.ok()) return s;
  return out;
}

template <typename T>
absl::StatusOr<T> OptionalMember(const nlohmann::json& object, const std::string& name,
                                 T default_value) {
  if (!object.is_object()) return internal::NotAnObject(name);
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return default_value;
  T out;
  absl::Status s = internal::Convert(*it, name, &out);
  if (!s.ok()) return s;
  return out;
}

}  // namespace stratus::aws

#endif  // STRATUS_COMMON_AWS_JSON_PROTOCOL_H_
