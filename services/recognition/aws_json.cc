#include "services/recognition/aws_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

#include "absl/strings/str_cat.h"
#include "common/aws/proto_json.h"
#include "common/status.h"
#include "stratus/v1/common.pb.h"

namespace stratus::recognition {

namespace pb = google::protobuf;

nlohmann::json ToAwsJson(const google::protobuf::Message& message) {
  return aws::ProtoToAwsJson(message);
}

absl::Status FromAwsJson(std::string_view body, google::protobuf::Message* message) {
  if (absl::Status s = aws::ProtoFromAwsJson(body, message); !s.ok()) return s;
  // The AWS API takes images as Bytes only (S3 objects are not served); Image.uri is the gRPC
  // API's own.
  const pb::Descriptor* d = message->GetDescriptor();
  const pb::Reflection* r = message->GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    if (f->is_repeated() || f->message_type() != v1::Image::descriptor() ||
        !r->HasField(*message, f)) {
      continue;
    }
    const auto& image = static_cast<const v1::Image&>(r->GetMessage(*message, f));
    if (image.has_uri()) {
      return absl::InvalidArgumentError(absl::StrCat(
          f->json_name(), ".Uri is not part of the AWS API: send ", f->json_name(), ".Bytes"));
    }
  }
  return absl::OkStatus();
}

}  // namespace stratus::recognition
