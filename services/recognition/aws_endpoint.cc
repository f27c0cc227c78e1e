#include "services/recognition/aws_endpoint.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "services/recognition/aws_json.h"

namespace stratus::recognition {
namespace {

namespace v1 = ::stratus::v1;
using nlohmann::json;

absl::Status CheckImages(const json& body) {
  for (const char* field : {"Image", "SourceImage", "TargetImage"}) {
    if (!body.contains(field)) continue;
    const json& image = body[field];
    if (!image.is_object()) return absl::InvalidArgumentError(absl::StrCat(field, " must be an object"));
    if (image.contains("Uri")) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".Uri is not part of the AWS API: send ", field, ".Bytes"));
    }
    if (image.contains("Bytes")) {
      if (!image["Bytes"].is_string()) {
        return absl::InvalidArgumentError(absl::StrCat(field, ".Bytes must be base64 text"));
      }
      auto decoded = aws::Base64Decode(image["Bytes"].get_ref<const std::string&>());
      if (!decoded.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ".Bytes is not valid base64: ", decoded.status().message()));
      }
    }
  }
  return absl::OkStatus();
}

template <typename Req, typename Resp>
void Add(aws::AwsJsonEndpoint* endpoint, Recognizer* recognizer, const std::string& operation,
         absl::StatusOr<Resp> (Recognizer::*method)(const Req&)) {
  endpoint->Register(
      absl::StrCat("RekognitionService.", operation),
      [=](const json& body) -> absl::StatusOr<json> {
        STRATUS_RETURN_IF_ERROR(CheckImages(body));
        Req request;
        google::protobuf::util::JsonParseOptions parse;
        parse.ignore_unknown_fields = true;
        auto parsed = google::protobuf::util::JsonStringToMessage(body.dump(), &request, parse);
        if (!parsed.ok()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "the request does not have the shape of ", operation, ": ", parsed.ToString()));
        }
        auto response = (recognizer->*method)(request);
        if (!response.ok()) return response.status();
        return ToAwsJson(*response);
      });
}

}  // namespace

void RegisterRekognitionOperations(aws::AwsJsonEndpoint* endpoint, Recognizer* recognizer) {
  Add(endpoint, recognizer, "DetectFaces", &Recognizer::DetectFaces);
  Add(endpoint, recognizer, "CompareFaces", &Recognizer::CompareFaces);
  Add(endpoint, recognizer, "CreateCollection", &Recognizer::CreateCollection);
  Add(endpoint, recognizer, "DeleteCollection", &Recognizer::DeleteCollection);
  Add(endpoint, recognizer, "ListCollections", &Recognizer::ListCollections);
  Add(endpoint, recognizer, "DescribeCollection", &Recognizer::DescribeCollection);
  Add(endpoint, recognizer, "IndexFaces", &Recognizer::IndexFaces);
  Add(endpoint, recognizer, "ListFaces", &Recognizer::ListFaces);
  Add(endpoint, recognizer, "DeleteFaces", &Recognizer::DeleteFaces);
  Add(endpoint, recognizer, "SearchFaces", &Recognizer::SearchFaces);
  Add(endpoint, recognizer, "SearchFacesByImage", &Recognizer::SearchFacesByImage);
  Add(endpoint, recognizer, "DetectLabels", &Recognizer::DetectLabels);
  Add(endpoint, recognizer, "DetectProtectiveEquipment", &Recognizer::DetectProtectiveEquipment);
  Add(endpoint, recognizer, "CreateUser", &Recognizer::CreateUser);
  Add(endpoint, recognizer, "DeleteUser", &Recognizer::DeleteUser);
  Add(endpoint, recognizer, "ListUsers", &Recognizer::ListUsers);
  Add(endpoint, recognizer, "AssociateFaces", &Recognizer::AssociateFaces);
  Add(endpoint, recognizer, "DisassociateFaces", &Recognizer::DisassociateFaces);
  Add(endpoint, recognizer, "SearchUsers", &Recognizer::SearchUsers);
  Add(endpoint, recognizer, "SearchUsersByImage", &Recognizer::SearchUsersByImage);
  Add(endpoint, recognizer, "DetectText", &Recognizer::DetectText);
}

}  // namespace stratus::recognition
