#include "services/recognition/aws_json.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/match.h"
#include "common/status.h"
#include "stratus/v1/common.pb.h"
#include "stratus/v1/recognition.pb.h"

namespace stratus::recognition {
namespace {

using nlohmann::json;

void Clean(json& j) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end();) {
      if (it->is_string() && (it->get_ref<const std::string&>().empty() ||
                              absl::EndsWith(it->get_ref<const std::string&>(), "_UNSPECIFIED"))) {
        it = j.erase(it);
      } else {
        Clean(*it);
        ++it;
      }
    }
  } else if (j.is_array()) {
    for (auto& e : j) Clean(e);
  }
}

}  // namespace

absl::StatusOr<json> ToAwsJson(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::util::JsonPrintOptions print;
  print.always_print_primitive_fields = true;
  auto printed = google::protobuf::util::MessageToJsonString(message, &text, print);
  if (!printed.ok()) return absl::InternalError(printed.ToString());
  json out = json::parse(text);
  Clean(out);
  if (const auto* d = dynamic_cast<const stratus::v1::DescribeCollectionResponse*>(&message)) {
    out["FaceCount"] = d->face_count();
    out["UserCount"] = d->user_count();
    out["CreationTimestamp"] =
        double(d->creation_timestamp().seconds()) + d->creation_timestamp().nanos() / 1e9;
  }
  return out;
}

std::string ReasonOf(const grpc::Status& status) { return ErrorReason(status); }

}  // namespace stratus::recognition
