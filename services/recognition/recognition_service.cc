#include "services/recognition/recognition_service.h"

#include <string>

namespace stratus::recognition {
namespace {

grpc::Status Unimplemented(const std::string& rpc) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      rpc + " is not implemented yet: it arrives with issue 4 (recognition)");
}

}  // namespace

grpc::Status RecognitionServiceImpl::DetectFaces(grpc::ServerContext* context, const v1::DetectFacesRequest* request,
                      v1::DetectFacesResponse* response) {
  return Unimplemented("DetectFaces");
}

grpc::Status RecognitionServiceImpl::CompareFaces(grpc::ServerContext* context, const v1::CompareFacesRequest* request,
                      v1::CompareFacesResponse* response) {
  return Unimplemented("CompareFaces");
}

grpc::Status RecognitionServiceImpl::CreateCollection(grpc::ServerContext* context, const v1::CreateCollectionRequest* request,
                      v1::CreateCollectionResponse* response) {
  return Unimplemented("CreateCollection");
}

grpc::Status RecognitionServiceImpl::DeleteCollection(grpc::ServerContext* context, const v1::DeleteCollectionRequest* request,
                      v1::DeleteCollectionResponse* response) {
  return Unimplemented("DeleteCollection");
}

grpc::Status RecognitionServiceImpl::ListCollections(grpc::ServerContext* context, const v1::ListCollectionsRequest* request,
                      v1::ListCollectionsResponse* response) {
  return Unimplemented("ListCollections");
}

grpc::Status RecognitionServiceImpl::DescribeCollection(grpc::ServerContext* context, const v1::DescribeCollectionRequest* request,
                      v1::DescribeCollectionResponse* response) {
  return Unimplemented("DescribeCollection");
}

grpc::Status RecognitionServiceImpl::IndexFaces(grpc::ServerContext* context, const v1::IndexFacesRequest* request,
                      v1::IndexFacesResponse* response) {
  return Unimplemented("IndexFaces");
}

grpc::Status RecognitionServiceImpl::ListFaces(grpc::ServerContext* context, const v1::ListFacesRequest* request,
                      v1::ListFacesResponse* response) {
  return Unimplemented("ListFaces");
}

grpc::Status RecognitionServiceImpl::DeleteFaces(grpc::ServerContext* context, const v1::DeleteFacesRequest* request,
                      v1::DeleteFacesResponse* response) {
  return Unimplemented("DeleteFaces");
}

grpc::Status RecognitionServiceImpl::SearchFaces(grpc::ServerContext* context, const v1::SearchFacesRequest* request,
                      v1::SearchFacesResponse* response) {
  return Unimplemented("SearchFaces");
}

grpc::Status RecognitionServiceImpl::SearchFacesByImage(grpc::ServerContext* context, const v1::SearchFacesByImageRequest* request,
                      v1::SearchFacesByImageResponse* response) {
  return Unimplemented("SearchFacesByImage");
}

grpc::Status RecognitionServiceImpl::DetectLabels(grpc::ServerContext* context, const v1::DetectLabelsRequest* request,
                      v1::DetectLabelsResponse* response) {
  return Unimplemented("DetectLabels");
}

grpc::Status RecognitionServiceImpl::DetectProtectiveEquipment(grpc::ServerContext* context, const v1::DetectProtectiveEquipmentRequest* request,
                      v1::DetectProtectiveEquipmentResponse* response) {
  return Unimplemented("DetectProtectiveEquipment");
}

}  // namespace stratus::recognition
