// AWS errors as absl::Status values.
//
// A handler (or a service core) that wants a specific AWS exception returns
//
//   return AwsError(400, "InvalidImageFormatException", "Request has invalid image format");
//
// which is an ordinary absl::Status (the canonical code is derived from the exception name and
// HTTP status, so the same status also converts sensibly to gRPC) carrying the exception name
// and HTTP status as a payload. The AWS JSON endpoint turns it into
// `{"__type": "InvalidImageFormatException", "message": "..."}` with that status.
//
// A plain status (no payload) is mapped through an AwsErrorDefaults table: per service, since
// Rekognition and Comprehend name their generic errors differently (InvalidParameterException
// vs InvalidRequestException, InternalServerError vs InternalServerException).
//
// Thread safety: free functions, no shared state.
#ifndef STRATUS_COMMON_AWS_AWS_ERROR_H_
#define STRATUS_COMMON_AWS_AWS_ERROR_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace stratus::aws {

// An AWS error as it goes on the wire.
struct AwsErrorInfo {
  int http_status = 500;
  std::string type;  // the exception name, e.g. "InvalidParameterException" (the "__type")
  std::string message;
};

// A status naming an AWS exception explicitly. The canonical code is derived from `type` and
// `http_status` (…NotFound… -> NOT_FOUND, …AlreadyExists… -> ALREADY_EXISTS, Throttling /
// …Exceeded… -> RESOURCE_EXHAUSTED at any status, AccessDenied -> PERMISSION_DENIED, signature
// and key errors -> UNAUTHENTICATED, 503 -> UNAVAILABLE, other 5xx -> INTERNAL, otherwise
// INVALID_ARGUMENT).
absl::Status AwsError(int http_status, absl::string_view type, absl::string_view message);
// The same with an explicit canonical code.
absl::Status AwsError(absl::StatusCode code, int http_status, absl::string_view type,
                      absl::string_view message);

// How plain statuses (no AwsError payload) map to AWS exceptions.
struct AwsErrorDefaults {
  struct Entry {
    int http_status;
    std::string type;
  };
  std::map<absl::StatusCode, Entry> by_code;
  Entry fallback{500, "InternalFailure"};  // codes not in `by_code`
};

// The one table from canonical codes to AWS exceptions, per service (Rekognition and Comprehend
// name their generic errors differently). Retryable rows are the ones the AWS SDKs retry: a
// backend that is down or too slow is a 503 ServiceUnavailableException (the SDKs retry every
// 5xx), an overloaded one a throttling error (ThrottlingException for Rekognition, a server
// fault in its service model; TooManyRequestsException for Comprehend), both retried with
// backoff (checked in @aws-sdk/client-rekognition 3.1142 and @smithy/service-error-
// classification).
//
//   code                 Rekognition                               Comprehend
//   INVALID_ARGUMENT,    400 InvalidParameterException             400 InvalidRequestException
//   FAILED_PRECONDITION,
//   OUT_OF_RANGE,
//   UNIMPLEMENTED
//   NOT_FOUND            400 ResourceNotFoundException             400 ResourceNotFoundException
//   ALREADY_EXISTS       400 ResourceAlreadyExistsException        400 ResourceInUseException
//   PERMISSION_DENIED,   400 AccessDeniedException                 400 AccessDeniedException
//   UNAUTHENTICATED
//   RESOURCE_EXHAUSTED   500 ThrottlingException (retryable)       400 TooManyRequestsException
//                                                                      (retryable)
//   UNAVAILABLE,         503 ServiceUnavailableException           503 ServiceUnavailableException
//   DEADLINE_EXCEEDED,       (retryable)                               (retryable)
//   ABORTED
//   anything else        500 InternalServerError                   500 InternalServerException
struct AwsErrorRow {
  absl::StatusCode code;
  AwsErrorDefaults::Entry rekognition;
  AwsErrorDefaults::Entry comprehend;
  bool retryable;
};
const std::vector<AwsErrorRow>& AwsErrorTable();

// The Rekognition and Comprehend columns of AwsErrorTable().
AwsErrorDefaults RekognitionErrorDefaults();
AwsErrorDefaults ComprehendErrorDefaults();

// The AWS error for `status` (which must not be OK): its AwsError payload when it has one,
// otherwise `defaults` by canonical code. The message is the status message.
AwsErrorInfo ToAwsError(const absl::Status& status, const AwsErrorDefaults& defaults);

// True when `status` carries an AwsError payload naming `type`.
bool IsAwsError(const absl::Status& status, absl::string_view type);

}  // namespace stratus::aws

#endif  // STRATUS_COMMON_AWS_AWS_ERROR_H_
