// Rekognition-shaped JSON of the recognition protos (whose json_name options are the AWS member
// names), for the AWS JSON endpoint (services/recognition/aws_endpoint.cc) and the CLI:
// - FromAwsJson: aws::ProtoFromAwsJson (common/aws/proto_json.h: one parse), refusing
//   Image.Uri, which is not part of the AWS API. INVALID_ARGUMENT naming the shape or the field.
// - ToAwsJson: aws::ProtoToAwsJson, the response as AWS writes it.
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


}  // namespace stratus::recognition

#endif  // STRATUS_SERVICES_RECOGNITION_AWS_JSON_H_
