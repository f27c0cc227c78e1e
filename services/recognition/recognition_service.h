// gRPC adapter of the recognition service: each RPC calls the Recognizer (rekognition.h) and
// converts its status once. Errors carry a stratus.v1.ErrorInfo in grpc-status-details-bin
// whose `reason` is the AWS exception name (common.proto), e.g. "InvalidImageFormatException".
// The ServiceHost interceptor counts and times every RPC. Thread-safe.
#ifndef STRATUS_SERVICES_RECOGNITION_RECOGNITION_SERVICE_H_
#define STRATUS_SERVICES_RECOGNITION_RECOGNITION_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "services/recognition/aws_json.h"
#include "services/recognition/rekognition.h"
#include "services/recognition/video_jobs.h"
#include "stratus/v1/recognition.grpc.pb.h"

namespace stratus::recognition {

namespace v1 = ::stratus::v1;

// absl status -> grpc status with an ErrorInfo detail naming the AWS exception.
grpc::Status ToGrpcWithReason(const absl::Status& status);

class RecognitionServiceImpl final : public v1::RecognitionService::Service {
 public:
  // `recognizer` and `video` are not owned and must outlive the service; without `video` the
  // stored-video RPCs answer UNIMPLEMENTED.
  explicit RecognitionServiceImpl(Recognizer* recognizer, VideoJobs* video = nullptr)
      : recognizer_(recognizer), video_(video) {}

  grpc::Status DetectFaces(grpc::ServerContext* context, const v1::DetectFacesRequest* request,
                           v1::DetectFacesResponse* response) override;
  grpc::Status CompareFaces(grpc::ServerContext* context, const v1::CompareFacesRequest* request,
                            v1::CompareFacesResponse* response) override;
  grpc::Status CreateCollection(grpc::ServerContext* context,
                                const v1::CreateCollectionRequest* request,
                                v1::CreateCollectionResponse* response) override;
  grpc::Status DeleteCollection(grpc::ServerContext* context,
                                const v1::DeleteCollectionRequest* request,
                                v1::DeleteCollectionResponse* response) override;
  grpc::Status ListCollections(grpc::ServerContext* context,
                               const v1::ListCollectionsRequest* request,
                               v1::ListCollectionsResponse* response) override;
  grpc::Status DescribeCollection(grpc::ServerContext* context,
                                  const v1::DescribeCollectionRequest* request,
                                  v1::DescribeCollectionResponse* response) override;
  grpc::Status IndexFaces(grpc::ServerContext* context, const v1::IndexFacesRequest* request,
                          v1::IndexFacesResponse* response) override;
  grpc::Status ListFaces(grpc::ServerContext* context, const v1::ListFacesRequest* request,
                         v1::ListFacesResponse* response) override;
  grpc::Status DeleteFaces(grpc::ServerContext* context, const v1::DeleteFacesRequest* request,
                           v1::DeleteFacesResponse* response) override;
  grpc::Status SearchFaces(grpc::ServerContext* context, const v1::SearchFacesRequest* request,
                           v1::SearchFacesResponse* response) override;
  grpc::Status SearchFacesByImage(grpc::ServerContext* context,
                                  const v1::SearchFacesByImageRequest* request,
                                  v1::SearchFacesByImageResponse* response) override;
  grpc::Status DetectLabels(grpc::ServerContext* context, const v1::DetectLabelsRequest* request,
                            v1::DetectLabelsResponse* response) override;
  grpc::Status DetectProtectiveEquipment(grpc::ServerContext* context,
                                         const v1::DetectProtectiveEquipmentRequest* request,
                                         v1::DetectProtectiveEquipmentResponse* response) override;

  grpc::Status CreateUser(grpc::ServerContext* context, const v1::CreateUserRequest* request,
                          v1::CreateUserResponse* response) override;
  grpc::Status DeleteUser(grpc::ServerContext* context, const v1::DeleteUserRequest* request,
                          v1::DeleteUserResponse* response) override;
  grpc::Status ListUsers(grpc::ServerContext* context, const v1::ListUsersRequest* request,
                         v1::ListUsersResponse* response) override;
  grpc::Status AssociateFaces(grpc::ServerContext* context,
                              const v1::AssociateFacesRequest* request,
                              v1::AssociateFacesResponse* response) override;
  grpc::Status DisassociateFaces(grpc::ServerContext* context,
                                 const v1::DisassociateFacesRequest* request,
                                 v1::DisassociateFacesResponse* response) override;
  grpc::Status SearchUsers(grpc::ServerContext* context, const v1::SearchUsersRequest* request,
                           v1::SearchUsersResponse* response) override;
  grpc::Status SearchUsersByImage(grpc::ServerContext* context,
                                  const v1::SearchUsersByImageRequest* request,
                                  v1::SearchUsersByImageResponse* response) override;
  grpc::Status DetectText(grpc::ServerContext* context, const v1::DetectTextRequest* request,
                          v1::DetectTextResponse* response) override;
  grpc::Status StartLabelDetection(grpc::ServerContext* context,
                                   const v1::StartLabelDetectionRequest* request,
                                   v1::StartLabelDetectionResponse* response) override;
  grpc::Status GetLabelDetection(grpc::ServerContext* context,
                                 const v1::GetLabelDetectionRequest* request,
                                 v1::GetLabelDetectionResponse* response) override;
  grpc::Status StartFaceDetection(grpc::ServerContext* context,
                                  const v1::StartFaceDetectionRequest* request,
                                  v1::StartFaceDetectionResponse* response) override;
  grpc::Status GetFaceDetection(grpc::ServerContext* context,
                                const v1::GetFaceDetectionRequest* request,
                                v1::GetFaceDetectionResponse* response) override;
  grpc::Status StartTextDetection(grpc::ServerContext* context,
                                  const v1::StartTextDetectionRequest* request,
                                  v1::StartTextDetectionResponse* response) override;
  grpc::Status GetTextDetection(grpc::ServerContext* context,
                                const v1::GetTextDetectionRequest* request,
                                v1::GetTextDetectionResponse* response) override;

 private:
  // The result, or its status with the AWS reason.
  template <typename Response>
  static grpc::Status Answer(absl::StatusOr<Response> result, Response* response) {
    if (!result.ok()) return ToGrpcWithReason(result.status());
    *response = std::move(*result);
    return grpc::Status::OK;
  }
  static grpc::Status NoVideo();

  Recognizer* recognizer_;
  VideoJobs* video_;
};

}  // namespace stratus::recognition

#endif  // STRATUS_SERVICES_RECOGNITION_RECOGNITION_SERVICE_H_
