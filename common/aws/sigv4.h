// AWS Signature Version 4 (header form, "AWS4-HMAC-SHA256"): verifying requests that AWS SDKs
// sign, and signing requests ourselves (tests, CLI).
//
// The algorithm (AWS IAM User Guide, "Create a signed AWS API request"):
//   CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n
//                      SignedHeaders \n HexSha256(payload)
//   StringToSign     = "AWS4-HMAC-SHA256" \n X-Amz-Date \n date/region/service/aws4_request \n
//                      HexSha256(CanonicalRequest)
//   SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
//                      "aws4_request")
//   Signature        = Hex(HMAC(SigningKey, StringToSign))
// CanonicalURI is the path as sent, normalised ("." and ".." resolved, empty segments dropped)
// and URI-encoded once more (AWS's "double encoding" for every service but S3); CanonicalQuery
// is the decoded-then-AWS-encoded parameters sorted by name then value; CanonicalHeaders are the
// SignedHeaders only, names lower-cased, values trimmed with inner runs of spaces collapsed. The
// payload hash is the x-amz-content-sha256 header when the request has one (it must then
// match the body), otherwise the SHA-256 of the body.
//
// Verification errors are AwsError statuses (common/aws/aws_error.h) with the exception names
// and HTTP statuses the AWS SDKs expect:
//   no Authorization header                     MissingAuthenticationTokenException 400
//   (400 as JSON-protocol services such as DynamoDB answer it; AWS's Query-protocol "Common
//   Errors" table says 403. The SDKs go by the exception name, not the status.)
//   malformed Authorization / X-Amz-Date,       IncompleteSignatureException 400
//   host or a present x-amz-target not signed
//   unknown access key, wrong session token     UnrecognizedClientException 400
//   date more than max_clock_skew off           InvalidSignatureException 400 ("Signature
//                                               expired: ..." / "Signature not yet current: ...")
//   wrong scope (date/region/service)           InvalidSignatureException 403
//   signature mismatch                          InvalidSignatureException 403 ("The request
//                                               signature we calculated does not match ...")
//   x-amz-content-sha256 not the body's hash    InvalidSignatureException 400
//
// Limits: HttpRequest keeps one value per header name (the last), so requests that sign
// a repeated header fail verification. HttpServer hands the *decoded* path; for the AWS JSON
// protocol the path is always "/", where decoded and raw agree.
//
// Thread safety: all functions are pure; SigV4Verifier is immutable after construction and
// safe to share across threads (the CredentialsStore it points to is thread-safe).
#ifndef STRATUS_COMMON_AWS_SIGV4_H_
#define STRATUS_COMMON_AWS_SIGV4_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/aws/credentials.h"
#include "common/http_server.h"

namespace stratus::aws {

inline constexpr char kSigV4Algorithm[] = "AWS4-HMAC-SHA256";
// SHA-256 of the empty string.
inline constexpr char kEmptySha256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// ---- Building blocks (exposed for tests and for the signer) ----

std::string Sha256Hex(absl::string_view data);
// Raw 32-byte HMAC-SHA256.
std::string HmacSha256(absl::string_view key, absl::string_view data);
std::string HexEncode(absl::string_view bytes);
// Constant-time comparison (CRYPTO_memcmp); false when sizes differ.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// AWS's URI encoding: A-Z a-z 0-9 - _ . ~ unchanged, everything else %XX (upper-case hex);
// '/' kept when `keep_slash`.
std::string UriEncode(absl::string_view s, bool keep_slash);
// Canonical URI of a raw (as sent) request path, for non-S3 services.
std::string CanonicalUri(absl::string_view raw_path);
// Canonical query string of a raw query (without '?').
std::string CanonicalQueryString(absl::string_view raw_query);
// A header value trimmed, with runs of spaces and tabs collapsed to one space.
std::string CanonicalHeaderValue(absl::string_view value);

// "20150830T123600Z" <-> absl::Time (UTC).
std::string FormatAmzDate(absl::Time t);
bool ParseAmzDate(absl::string_view s, absl::Time* t);

struct CanonicalRequestInput {
  std::string method;
  std::string raw_path = "/";
  std::string raw_query;
  // Lower-cased header name -> value (as received; canonicalised here).
  std::map<std::string, std::string> headers;
  // Lower-cased, in the order they appear in SignedHeaders (sorted when we sign).
  std::vector<std::string> signed_headers;
  std::string payload_hash;  // hex SHA-256 of the body, or e.g. "UNSIGNED-PAYLOAD"
};
std::string CanonicalRequest(const CanonicalRequestInput& in);
// `scope` is "20150830/us-east-1/service/aws4_request".
std::string StringToSign(absl::string_view amz_date, absl::string_view scope,
                         absl::string_view canonical_request);
// `date` is YYYYMMDD.
std::string DeriveSigningKey(absl::string_view secret, absl::string_view date,
                             absl::string_view region, absl::string_view service);

// ---- Signing ----

struct SigningParams {
  AwsCredentials credentials;  // session_token, when set, is sent as X-Amz-Security-Token
  std::string region = "us-east-1";
  std::string service;                     // e.g. "rekognition", "comprehend"
  absl::Time time = absl::InfinitePast();  // InfinitePast: absl::Now()
  bool add_content_sha256 = false;         // also send and sign x-amz-content-sha256
};

// Signs a request. `headers` must contain "host" (as the client will send it, e.g.
// "localhost:8083"); names are matched case-insensitively. Adds X-Amz-Date, X-Amz-Security-Token
// (when there is a session token), x-amz-content-sha256 (when asked) and Authorization to
// `headers`, and signs every header in it (so add headers before signing). `raw_path` and
// `raw_query` are as they will be sent. INVALID_ARGUMENT without host, service or keys.
absl::Status SignRequest(const SigningParams& params, absl::string_view method,
                         absl::string_view raw_path, absl::string_view raw_query,
                         absl::string_view body, std::map<std::string, std::string>* headers);

// ---- Verification ----

// Who signed a verified request.
struct SigV4Identity {
  std::string access_key_id;
  std::string region;   // from the credential scope
  std::string service;  // from the credential scope
};

class SigV4Verifier {
 public:
  struct Options {
    // Required service in the credential scope (e.g. "rekognition"); "" accepts any.
    std::string service;
    // Required region; "" accepts any (users configure SDKs with any region they like).
    std::string region;
    // AWS's window: a request dated more than this before or after now is refused.
    absl::Duration max_clock_skew = absl::Minutes(15);
    // Accept x-amz-content-sha256: UNSIGNED-PAYLOAD (body not covered by the signature). Off:
    // for the JSON protocol the body is the request, so it must be signed.
    bool allow_unsigned_payload = false;
    // Lower-cased headers that must be signed when the request has them (host always must).
    // X-Amz-Target: otherwise a signed DescribeCollection could be replayed, within the clock
    // window, as a DeleteCollection with the same body. Every AWS SDK signs it.
    std::vector<std::string> signed_when_present = {"x-amz-target"};
    // Clock, injectable for tests; null means absl::Now.
    std::function<absl::Time()> clock;
  };

  // `credentials` is not owned and must outlive the verifier.
  SigV4Verifier(const CredentialsStore* credentials, Options options);

  // OK with the signer's identity, or an AwsError status as listed at the top of this file.
  absl::StatusOr<SigV4Identity> Verify(const HttpRequest& request) const;

 private:
  const CredentialsStore* credentials_;
  Options options_;
};

}  // namespace stratus::aws

#endif  // STRATUS_COMMON_AWS_SIGV4_H_
