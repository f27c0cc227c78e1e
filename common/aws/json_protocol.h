// The AWS JSON 1.1 protocol on an HttpServer: `POST /` with `X-Amz-Target: <Prefix>.<Operation>`,
// `Content-Type: application/x-amz-json-1.1`, a JSON object body, SigV4-signed; answers are
// JSON objects, errors `{"__type": "<Exception>", "message": "..."}` with the exception's HTTP
// status and an `x-amzn-ErrorType` header, every answer with `x-amzn-RequestId` and `Date`.
// This is what @aws-sdk/client-rekognition and @aws-sdk/client-comprehend speak.
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
//         if (!req.contains("Image")) {
//           return aws::AwsError(400, "InvalidParameterException", "Image is required");
//         }
//         STRATUS_ASSIGN_OR_RETURN(std::string bytes,
//             aws::Base64Decode(req["Image"].value("Bytes", "")));  // INVALID_ARGUMENT if bad
//         STRATUS_ASSIGN_OR_RETURN(auto faces, core.DetectFaces(bytes));  // plain statuses are
//         return nlohmann::json{{"FaceDetails", ToJson(faces)}};          // mapped by `errors`
//       });
//   endpoint->Install(host->http());             // routes "/" ; before host->Start()
//
// Handlers run on the HTTP server's worker threads, concurrently, and must be thread-safe. A
// handler's error is sent as described in common/aws/aws_error.h: AwsError(...) names the
// exception; a plain absl::Status is mapped by Options::errors (INVALID_ARGUMENT ->
// InvalidParameterException 400 for Rekognition, InvalidRequestException for Comprehend, ...).
// A handler that throws gets the INTERNAL mapping (InternalServerError 500), logged.
//
// Checks, in order (each failure is counted under its exception name):
//   method not POST                          405, `{"__type": "UnknownOperationException"}`
//   SigV4 (unless Options::require_signature is false; see common/aws/sigv4.h)
//   X-Amz-Target missing or not registered   UnknownOperationException 400
//   Content-Type not application/x-amz-json-1.1 (or 1.0)   SerializationException 400
//   body not a JSON object (empty = {})      SerializationException 400
//
// Thread safety: Register()/Install() before serving; Handle() is then safe concurrently.
#ifndef STRATUS_COMMON_AWS_JSON_PROTOCOL_H_
#define STRATUS_COMMON_AWS_JSON_PROTOCOL_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "common/aws/aws_error.h"
#include "common/aws/credentials.h"
#include "common/aws/sigv4.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "common/metrics.h"

namespace stratus::aws {

inline constexpr char kAmzJson11[] = "application/x-amz-json-1.1";

class AwsJsonEndpoint {
 public:
  using Handler = std::function<absl::StatusOr<nlohmann::json>(const nlohmann::json& request)>;

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
  };

  // INVALID_ARGUMENT when require_signature is set without credentials.
  static absl::StatusOr<std::unique_ptr<AwsJsonEndpoint>> Create(const Options& options);

  // `target` is the full X-Amz-Target value, e.g. "RekognitionService.DetectFaces" or
  // "Comprehend_20171127.DetectSentiment". A second registration replaces the first.
  void Register(const std::string& target, Handler handler);

  // Routes `path` (AWS uses "/") of `server` to this endpoint. The endpoint must outlive the
  // server's serving.
  void Install(HttpServer* server, const std::string& path = "/");

  // The whole request -> response step (what Install() routes to).
  HttpResponse Handle(const HttpRequest& request) const;

 private:
  explicit AwsJsonEndpoint(const Options& options);
  HttpResponse Error(const AwsErrorInfo& error, const std::string& target_label,
                     std::chrono::steady_clock::time_point start) const;
  void Count(const std::string& target_label, const std::string& code,
             std::chrono::steady_clock::time_point start) const;

  Options options_;
  std::optional<SigV4Verifier> verifier_;
  std::map<std::string, Handler> handlers_;
  metrics::Family<metrics::Counter>* requests_ = nullptr;
  metrics::Family<metrics::Histogram>* latency_ = nullptr;
};

// ---- Client side (tests, CLI): a signed AWS JSON 1.1 call over common/http_client ----

struct AwsJsonClientOptions {
  std::string endpoint = "http://localhost:8083";  // http://host:port, no path
  SigningParams signing;  // credentials, region, service; time InfinitePast = now
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
};

// POSTs `request` to `target` and returns the raw HTTP result (status, headers, body), so
// callers can check error shapes; transport errors as HttpFetch.
absl::StatusOr<HttpResult> AwsJsonCall(const AwsJsonClientOptions& options,
                                       const std::string& target, const nlohmann::json& request);

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

}  // namespace stratus::aws

#endif  // STRATUS_COMMON_AWS_JSON_PROTOCOL_H_
