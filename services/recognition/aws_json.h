// Rekognition-shaped JSON of the recognition protos (whose json_name options are the AWS member
// names), for the AWS JSON endpoint (services/recognition/aws_endpoint.cc):
// - FromAwsJson: a request body to its proto in one parse (JsonStringToMessage, unknown members
//   ignored as AWS SDKs of newer versions may send them), refusing Image.Uri, which is not part
//   of the AWS API. INVALID_ARGUMENT naming the shape or the field.
// - ToAwsJson: a response proto straight to JSON as AWS writes it: empty strings and
//   *_UNSPECIFIED enums left out, unset messages and optional fields left out, empty lists kept,
//   numbers (int64 included) and booleans always written as JSON numbers and booleans, floats as
//   their shortest decimal, bytes as base64, timestamps as epoch seconds.
// Also reads the AWS exception name a recognition gRPC error carries. Thread-safe, no state.
#ifndef STRATUS_SERVICES_RECOGNITION_AWS_JSON_H_
#define STRATUS_SERVICES_RECOGNITION_AWS_JSON_H_

#include <google/protobuf/message.h>
#include <grpcpp/support/status.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace stratus::recognition {

absl::Status FromAwsJson(std::string_view body, google::protobuf::Message* message);

nlohmann::json ToAwsJson(const google::protobuf::Message& message);

// The google.rpc.ErrorInfo reason in a grpc status's details ("" when none), e.g.
// "InvalidImageFormatException".
std::string ReasonOf(const grpc::Status& status);

}  // namespace stratus::recognition

#endif  // STRATUS_SERVICES_RECOGNITION_AWS_JSON_H_
