#include "services/recognition/aws_endpoint.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "services/recognition/aws_json.h"

namespace stratus::recognition {
namespace {

// One parse in (the body into the request proto), the core, one conversion out (the response
// proto into JSON, which the endpoint prints once).
template <typename Core, typename Req, typename Resp>
void Add(aws::AwsJsonEndpoint* endpoint, Core* core, const std::string& operation,
         absl::StatusOr<Resp> (Core::*method)(const Req&)) {
  endpoint->RegisterBody(absl::StrCat("RekognitionService.", operation),
                         [=](std::string_view body) -> absl::StatusOr<nlohmann::json> {
                           Req request;
                           STRATUS_RETURN_IF_ERROR(FromAwsJson(body, &request));
                           absl::StatusOr<Resp> response = (core->*method)(request);
                           if (!response.ok()) return response.status();
                           return ToAwsJson(*response);
                         });
}

}  // namespace

void RegisterRekognitionOperations(aws::AwsJsonEndpoint* endpoint, Recognizer* recognizer,
                                   VideoJobs* video) {
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
  if (video != nullptr) {
    Add(endpoint, video, "StartLabelDetection", &VideoJobs::StartLabelDetection);
    Add(endpoint, video, "GetLabelDetection", &VideoJobs::GetLabelDetection);
    Add(endpoint, video, "StartFaceDetection", &VideoJobs::StartFaceDetection);
    Add(endpoint, video, "GetFaceDetection", &VideoJobs::GetFaceDetection);
    Add(endpoint, video, "StartTextDetection", &VideoJobs::StartTextDetection);
    Add(endpoint, video, "GetTextDetection", &VideoJobs::GetTextDetection);
  }
}

}  // namespace stratus::recognition
