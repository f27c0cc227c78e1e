// AWS-shaped JSON of protos whose json_name options are the AWS member names, for the AWS JSON
// 1.1 endpoints of the Rekognition and Comprehend APIs:
// - ProtoFromAwsJson: a request body to its proto in one parse (JsonStringToMessage, unknown
//   members ignored as AWS SDKs of newer versions may send them). INVALID_ARGUMENT naming the
//   shape when a member has the wrong type (the endpoints map it to their exception).
// - ProtoToAwsJson: a response proto straight to JSON as AWS writes it: empty strings and
//   *_UNSPECIFIED enums left out, unset messages and optional fields left out, empty lists kept,
//   numbers (int64 included) and booleans always written as JSON numbers and booleans, floats as
//   their shortest decimal, bytes as base64, timestamps as epoch seconds.
// Thread-safe, no state.
#ifndef STRATUS_COMMON_AWS_PROTO_JSON_H_
#define STRATUS_COMMON_AWS_PROTO_JSON_H_

#include <google/protobuf/message.h>

#include <nlohmann/json.hpp>
#include <string_view>

#include "absl/status/status.h"

namespace stratus::aws {

absl::Status ProtoFromAwsJson(std::string_view body, google::protobuf::Message* message);

nlohmann::json ProtoToAwsJson(const google::protobuf::Message& message);

}  // namespace stratus::aws

#endif  // STRATUS_COMMON_AWS_PROTO_JSON_H_
