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
// …Exceeded… -> RESOURCE_EXHAUSTED, AccessDenied -> PERMISSION_DENIED, signature and key errors
// -> UNAUTHENTICATED, 5xx -> INTERNAL (503: UNAVAILABLE), otherwise INVALID_ARGUMENT).
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

// Rekognition's names (Rekognition API reference, "Errors" of each operation):
//   INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE -> InvalidParameterException 400
//   NOT_FOUND -> ResourceNotFoundException 400
//   ALREADY_EXISTS -> ResourceAlreadyExistsException 400
//   PERMISSION_DENIED, UNAUTHENTICATED -> AccessDeniedException 400
//   RESOURCE_EXHAUSTED -> ProvisionedThroughputExceededException 400 (request rate over a limit)
//   UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED -> ThrottlingException 500 ("Amazon Rekognition is
//     temporarily unable to process the request"; the service model makes it a server fault,
//     the others here client faults: checked in @aws-sdk/client-rekognition 3.1142; the SDKs
//     retry both throttling names)
//   UNIMPLEMENTED -> InvalidParameterException 400 (e.g. a feature not configured here)
//   INTERNAL, UNKNOWN, DATA_LOSS, anything else -> InternalServerError 500
AwsErrorDefaults RekognitionErrorDefaults();

// Comprehend's names (Comprehend API reference):
//   INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE, UNIMPLEMENTED -> InvalidRequestException
//   400 NOT_FOUND -> ResourceNotFoundException 400 ALREADY_EXISTS -> ResourceInUseException 400
//   PERMISSION_DENIED, UNAUTHENTICATED -> AccessDeniedException 400
//   RESOURCE_EXHAUSTED -> TooManyRequestsException 400
//   UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, INTERNAL, anything else -> InternalServerException 500
AwsErrorDefaults ComprehendErrorDefaults();

// The AWS error for `status` (which must not be OK): its AwsError payload when it has one,
// otherwise `defaults` by canonical code. The message is the status message.
AwsErrorInfo ToAwsError(const absl::Status& status, const AwsErrorDefaults& defaults);

// True when `status` carries an AwsError payload naming `type`.
bool IsAwsError(const absl::Status& status, absl::string_view type);

}  // namespace stratus::aws

#endif  // STRATUS_COMMON_AWS_AWS_ERROR_H_
