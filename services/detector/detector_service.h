// gRPC adapter of the detector service: Object and face detection with LibTorch models.
// Until issue 3 (model runtime and detector) lands, every RPC answers UNIMPLEMENTED naming what is missing.
#ifndef STRATUS_SERVICES_DETECTOR_DETECTOR_SERVICE_H_
#define STRATUS_SERVICES_DETECTOR_DETECTOR_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "stratus/v1/detector.grpc.pb.h"

namespace stratus::detector {

namespace v1 = ::stratus::v1;

class DetectorServiceImpl final : public v1::DetectorService::Service {
 public:
  grpc::Status Detect(grpc::ServerContext* context, const v1::DetectRequest* request,
                      v1::DetectResponse* response) override;
  grpc::Status DetectStream(grpc::ServerContext* context,
                      grpc::ServerReaderWriter<v1::DetectResponse, v1::DetectRequest>* stream) override;
  grpc::Status AnalyzeFaces(grpc::ServerContext* context, const v1::AnalyzeFacesRequest* request,
                      v1::AnalyzeFacesResponse* response) override;
  grpc::Status ListModels(grpc::ServerContext* context, const v1::ListModelsRequest* request,
                      v1::ListModelsResponse* response) override;
};

}  // namespace stratus::detector

#endif  // STRATUS_SERVICES_DETECTOR_DETECTOR_SERVICE_H_
