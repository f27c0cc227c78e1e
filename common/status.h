// Errors as values: absl::Status inside every component, converted exactly once at the gRPC
// edge. The canonical codes map one to one (absl and gRPC share the numbering).
#ifndef STRATUS_COMMON_STATUS_H_
#define STRATUS_COMMON_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace stratus {

// A reason attached with WithReason() travels to the client as a stratus.v1.ErrorInfo inside a
// stratus.v1.RpcStatus in grpc-status-details-bin (common.proto's convention).
grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// Attaches a machine-readable reason, e.g. "InvalidImageFormatException", to an error.
absl::Status WithReason(absl::Status status, std::string_view reason);
// The reason attached to an error ("" when none), on either side of the wire.
std::string ErrorReason(const absl::Status& status);
std::string ErrorReason(const grpc::Status& status);

// The lower-case canonical name of a code ("ok", "invalid_argument", ...), used as a metric label.
std::string StatusCodeLabel(absl::StatusCode code);

}  // namespace stratus

// Evaluates an absl::Status expression and returns it from the enclosing function on error.
#define STRATUS_RETURN_IF_ERROR(expr)          \
  do {                                         \
    ::absl::Status _stratus_status = (expr);   \
    if (!_stratus_status.ok()) return _stratus_status; \
  } while (0)

#define STRATUS_CONCAT_INNER(a, b) a##b
#define STRATUS_CONCAT(a, b) STRATUS_CONCAT_INNER(a, b)

// `STRATUS_ASSIGN_OR_RETURN(auto x, MakeX());` assigns the value or returns the error.
#define STRATUS_ASSIGN_OR_RETURN(lhs, rexpr) \
  STRATUS_ASSIGN_OR_RETURN_IMPL(STRATUS_CONCAT(_stratus_or_, __LINE__), lhs, rexpr)
#define STRATUS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                  \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()

#endif  // STRATUS_COMMON_STATUS_H_
