// The gRPC edge of errors as values: absl::Status inside every component (with the macros of
// common/status_macros.h, which need no gRPC), converted exactly once here. The canonical codes
// map one to one (absl and gRPC share the numbering).
#ifndef STRATUS_COMMON_STATUS_H_
#define STRATUS_COMMON_STATUS_H_

#include <grpcpp/support/status.h>

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/status_macros.h"

namespace stratus {

// A reason attached with WithReason() travels to the client as a google.rpc.ErrorInfo inside a
// google.rpc.Status in grpc-status-details-bin (the standard gRPC error model; common.proto).
grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// Attaches a machine-readable reason, e.g. "InvalidImageFormatException", to an error.
absl::Status WithReason(absl::Status status, std::string_view reason);
// The reason attached to an error ("" when none), on either side of the wire.
std::string ErrorReason(const absl::Status& status);
std::string ErrorReason(const grpc::Status& status);
// The metadata of the google.rpc.ErrorInfo a service sent with an error (FromGrpcStatus keeps
// it), e.g. {"field": "config.uri"}; empty when none.
std::map<std::string, std::string> ErrorMetadata(const absl::Status& status);

// The lower-case canonical name of a code ("ok", "invalid_argument", ...), used as a metric label.
std::string StatusCodeLabel(absl::StatusCode code);

}  // namespace stratus

#endif  // STRATUS_COMMON_STATUS_H_
