// Rekognition-shaped JSON of the recognition protos, shared by the AWS JSON endpoint and the
// CLI: MessageToJsonString (json_name = AWS member names), then written as AWS writes it (empty
// strings and *_UNSPECIFIED enums left out, empty lists kept, int64 counts as numbers,
// timestamps as epoch seconds). Also reads the AWS exception name a recognition gRPC error
// carries. Thread-safe, no state.
#ifndef STRATUS_SERVICES_RECOGNITION_AWS_JSON_H_
#define STRATUS_SERVICES_RECOGNITION_AWS_JSON_H_

#include <google/protobuf/message.h>
#include <grpcpp/support/status.h>

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"

namespace stratus::recognition {

absl::StatusOr<nlohmann::json> ToAwsJson(const google::protobuf::Message& message);

// The stratus.v1.ErrorInfo reason in a grpc status's details ("" when none), e.g.
// "InvalidImageFormatException".
std::string ReasonOf(const grpc::Status& status);

}  // namespace stratus::recognition

#endif  // STRATUS_SERVICES_RECOGNITION_AWS_JSON_H_
