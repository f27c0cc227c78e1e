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
  auto result = recognizer_->DetectFaces(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status RecognitionServiceImpl::CompareFaces(grpc::ServerContext*, const v1::CompareFacesRequest* request,
                                         v1::CompareFacesResponse* response) {
  auto result = recognizer_->CompareFaces(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status RecognitionServiceImpl::CreateCollection(grpc::ServerContext*, const v1::CreateCollectionRequest* request,
                                         v1::CreateCollectionResponse* response) {
  auto result = recognizer_->CreateCollection(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status RecognitionServiceImpl::DeleteCollection(grpc::ServerContext*, const v1::DeleteCollectionRequest* request,
                                         v1::DeleteCollectionResponse* response) {
  auto result = recognizer_->DeleteCollection(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status RecognitionServiceImpl::ListCollections(grpc::ServerContext*, const v1::ListCollectionsRequest* request,
                                         v1::ListCollectionsResponse* response) {
  auto result = recognizer_->ListCollections(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status RecognitionServiceImpl::DescribeCollection(grpc::ServerContext*, const v1::DescribeCollectionRequest* request,
                                         v1::DescribeCollectionResponse* response) {
  auto result = recognizer_->DescribeCollection(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status RecognitionServiceImpl::IndexFaces(grpc::ServerContext*, const v1::IndexFacesRequest* request,
                                         v1::IndexFacesResponse* response) {
  auto result = recognizer_->IndexFaces(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status RecognitionServiceImpl::ListFaces(grpc::ServerContext*, const v1::ListFacesRequest* request,
                                         v1::ListFacesResponse* response) {
  auto result = recognizer_->ListFaces(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status RecognitionServiceImpl::DeleteFaces(grpc::ServerContext*, const v1::DeleteFacesRequest* request,
                                         v1::DeleteFacesResponse* response) {
  auto result = recognizer_->DeleteFaces(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status RecognitionServiceImpl::SearchFaces(grpc::ServerContext*, const v1::SearchFacesRequest* request,
                                         v1::SearchFacesResponse* response) {
  auto result = recognizer_->SearchFaces(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status RecognitionServiceImpl::SearchFacesByImage(grpc::ServerContext*, const v1::SearchFacesByImageRequest* request,
                                         v1::SearchFacesByImageResponse* response) {
  auto result = recognizer_->SearchFacesByImage(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status RecognitionServiceImpl::DetectLabels(grpc::ServerContext*, const v1::DetectLabelsRequest* request,
                                         v1::DetectLabelsResponse* response) {
  auto result = recognizer_->DetectLabels(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status RecognitionServiceImpl::DetectProtectiveEquipment(grpc::ServerContext*, const v1::DetectProtectiveEquipmentRequest* request,
                                         v1::DetectProtectiveEquipmentResponse* response) {
  auto result = recognizer_->DetectProtectiveEquipment(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status RecognitionServiceImpl::CreateUser(grpc::ServerContext*,
                                                const v1::CreateUserRequest* request,
                                                v1::CreateUserResponse* response) {
  auto result = recognizer_->CreateUser(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status RecognitionServiceImpl::DeleteUser(grpc::ServerContext*,
                                                const v1::DeleteUserRequest* request,
                                                v1::DeleteUserResponse* response) {
  auto result = recognizer_->DeleteUser(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status RecognitionServiceImpl::ListUsers(grpc::ServerContext*,
                                               const v1::ListUsersRequest* request,
                                               v1::ListUsersResponse* response) {
  auto result = recognizer_->ListUsers(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status RecognitionServiceImpl::AssociateFaces(grpc::ServerContext*,
                                                    const v1::AssociateFacesRequest* request,
                                                    v1::AssociateFacesResponse* response) {
  auto result = recognizer_->AssociateFaces(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status RecognitionServiceImpl::DisassociateFaces(grpc::ServerContext*,
                                                       const v1::DisassociateFacesRequest* request,
                                                       v1::DisassociateFacesResponse* response) {
  auto result = recognizer_->DisassociateFaces(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status RecognitionServiceImpl::SearchUsers(grpc::ServerContext*,
                                                 const v1::SearchUsersRequest* request,
                                                 v1::SearchUsersResponse* response) {
  auto result = recognizer_->SearchUsers(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status RecognitionServiceImpl::SearchUsersByImage(
    grpc::ServerContext*, const v1::SearchUsersByImageRequest* request,
    v1::SearchUsersByImageResponse* response) {
  auto result = recognizer_->SearchUsersByImage(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status RecognitionServiceImpl::DetectText(grpc::ServerContext*,
                                                const v1::DetectTextRequest* request,
                                                v1::DetectTextResponse* response) {
  auto result = recognizer_->DetectText(*request);
  if (!result.ok()) return ToGrpcWithReason(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

}  // namespace stratus::recognition
