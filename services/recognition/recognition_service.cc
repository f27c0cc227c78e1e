#include "services/recognition/recognition_service.h"

#include "common/aws/aws_error.h"
#include "common/status.h"
#include "stratus/v1/common.pb.h"

namespace stratus::recognition {

grpc::Status ToGrpcWithReason(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return ToGrpcStatus(
      WithReason(status, aws::ToAwsError(status, aws::RekognitionErrorDefaults()).type));
}

grpc::Status RecognitionServiceImpl::DetectFaces(grpc::ServerContext*, const v1::DetectFacesRequest* request,
                                         v1::DetectFacesResponse* response) {
  return Answer(recognizer_->DetectFaces(*request), response);
}

grpc::Status RecognitionServiceImpl::CompareFaces(grpc::ServerContext*, const v1::CompareFacesRequest* request,
                                         v1::CompareFacesResponse* response) {
  return Answer(recognizer_->CompareFaces(*request), response);
}

grpc::Status RecognitionServiceImpl::CreateCollection(grpc::ServerContext*, const v1::CreateCollectionRequest* request,
                                         v1::CreateCollectionResponse* response) {
  return Answer(recognizer_->CreateCollection(*request), response);
}

grpc::Status RecognitionServiceImpl::DeleteCollection(grpc::ServerContext*, const v1::DeleteCollectionRequest* request,
                                         v1::DeleteCollectionResponse* response) {
  return Answer(recognizer_->DeleteCollection(*request), response);
}

grpc::Status RecognitionServiceImpl::ListCollections(grpc::ServerContext*, const v1::ListCollectionsRequest* request,
                                         v1::ListCollectionsResponse* response) {
  return Answer(recognizer_->ListCollections(*request), response);
}

grpc::Status RecognitionServiceImpl::DescribeCollection(grpc::ServerContext*, const v1::DescribeCollectionRequest* request,
                                         v1::DescribeCollectionResponse* response) {
  return Answer(recognizer_->DescribeCollection(*request), response);
}

grpc::Status RecognitionServiceImpl::IndexFaces(grpc::ServerContext*, const v1::IndexFacesRequest* request,
                                         v1::IndexFacesResponse* response) {
  return Answer(recognizer_->IndexFaces(*request), response);
}

grpc::Status RecognitionServiceImpl::ListFaces(grpc::ServerContext*, const v1::ListFacesRequest* request,
                                         v1::ListFacesResponse* response) {
  return Answer(recognizer_->ListFaces(*request), response);
}

grpc::Status RecognitionServiceImpl::DeleteFaces(grpc::ServerContext*, const v1::DeleteFacesRequest* request,
                                         v1::DeleteFacesResponse* response) {
  return Answer(recognizer_->DeleteFaces(*request), response);
}

grpc::Status RecognitionServiceImpl::SearchFaces(grpc::ServerContext*, const v1::SearchFacesRequest* request,
                                         v1::SearchFacesResponse* response) {
  return Answer(recognizer_->SearchFaces(*request), response);
}

grpc::Status RecognitionServiceImpl::SearchFacesByImage(grpc::ServerContext*, const v1::SearchFacesByImageRequest* request,
                                         v1::SearchFacesByImageResponse* response) {
  return Answer(recognizer_->SearchFacesByImage(*request), response);
}

grpc::Status RecognitionServiceImpl::DetectLabels(grpc::ServerContext*, const v1::DetectLabelsRequest* request,
                                         v1::DetectLabelsResponse* response) {
  return Answer(recognizer_->DetectLabels(*request), response);
}

grpc::Status RecognitionServiceImpl::DetectProtectiveEquipment(grpc::ServerContext*, const v1::DetectProtectiveEquipmentRequest* request,
                                         v1::DetectProtectiveEquipmentResponse* response) {
  return Answer(recognizer_->DetectProtectiveEquipment(*request), response);
}

grpc::Status RecognitionServiceImpl::CreateUser(grpc::ServerContext*,
                                                const v1::CreateUserRequest* request,
                                                v1::CreateUserResponse* response) {
  return Answer(recognizer_->CreateUser(*request), response);
}

grpc::Status RecognitionServiceImpl::DeleteUser(grpc::ServerContext*,
                                                const v1::DeleteUserRequest* request,
                                                v1::DeleteUserResponse* response) {
  return Answer(recognizer_->DeleteUser(*request), response);
}

grpc::Status RecognitionServiceImpl::ListUsers(grpc::ServerContext*,
                                               const v1::ListUsersRequest* request,
                                               v1::ListUsersResponse* response) {
  return Answer(recognizer_->ListUsers(*request), response);
}

grpc::Status RecognitionServiceImpl::AssociateFaces(grpc::ServerContext*,
                                                    const v1::AssociateFacesRequest* request,
                                                    v1::AssociateFacesResponse* response) {
  return Answer(recognizer_->AssociateFaces(*request), response);
}

grpc::Status RecognitionServiceImpl::DisassociateFaces(grpc::ServerContext*,
                                                       const v1::DisassociateFacesRequest* request,
                                                       v1::DisassociateFacesResponse* response) {
  return Answer(recognizer_->DisassociateFaces(*request), response);
}

grpc::Status RecognitionServiceImpl::SearchUsers(grpc::ServerContext*,
                                                 const v1::SearchUsersRequest* request,
                                                 v1::SearchUsersResponse* response) {
  return Answer(recognizer_->SearchUsers(*request), response);
}

grpc::Status RecognitionServiceImpl::SearchUsersByImage(
    grpc::ServerContext*, const v1::SearchUsersByImageRequest* request,
    v1::SearchUsersByImageResponse* response) {
  return Answer(recognizer_->SearchUsersByImage(*request), response);
}

grpc::Status RecognitionServiceImpl::DetectText(grpc::ServerContext*,
                                                const v1::DetectTextRequest* request,
                                                v1::DetectTextResponse* response) {
  return Answer(recognizer_->DetectText(*request), response);
}

grpc::Status RecognitionServiceImpl::StartLabelDetection(
    grpc::ServerContext*, const v1::StartLabelDetectionRequest* request,
    v1::StartLabelDetectionResponse* response) {
  if (video_ == nullptr) return NoVideo();
  return Answer(video_->StartLabelDetection(*request), response);
}

grpc::Status RecognitionServiceImpl::GetLabelDetection(grpc::ServerContext*,
                                                       const v1::GetLabelDetectionRequest* request,
                                                       v1::GetLabelDetectionResponse* response) {
  if (video_ == nullptr) return NoVideo();
  return Answer(video_->GetLabelDetection(*request), response);
}

grpc::Status RecognitionServiceImpl::StartFaceDetection(
    grpc::ServerContext*, const v1::StartFaceDetectionRequest* request,
    v1::StartFaceDetectionResponse* response) {
  if (video_ == nullptr) return NoVideo();
  return Answer(video_->StartFaceDetection(*request), response);
}

grpc::Status RecognitionServiceImpl::GetFaceDetection(grpc::ServerContext*,
                                                      const v1::GetFaceDetectionRequest* request,
                                                      v1::GetFaceDetectionResponse* response) {
  if (video_ == nullptr) return NoVideo();
  return Answer(video_->GetFaceDetection(*request), response);
}

grpc::Status RecognitionServiceImpl::StartTextDetection(
    grpc::ServerContext*, const v1::StartTextDetectionRequest* request,
    v1::StartTextDetectionResponse* response) {
  if (video_ == nullptr) return NoVideo();
  return Answer(video_->StartTextDetection(*request), response);
}

grpc::Status RecognitionServiceImpl::GetTextDetection(grpc::ServerContext*,
                                                      const v1::GetTextDetectionRequest* request,
                                                      v1::GetTextDetectionResponse* response) {
  if (video_ == nullptr) return NoVideo();
  return Answer(video_->GetTextDetection(*request), response);
}

grpc::Status RecognitionServiceImpl::NoVideo() {
  return ToGrpcWithReason(absl::UnimplementedError(
      "stored video is off: this service was started without a database for its jobs"));
}

}  // namespace stratus::recognition
