#include "services/detector/detector_service.h"

#include <string>

namespace stratus::detector {
namespace {

grpc::Status Unimplemented(const std::string& rpc) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      rpc + " is not implemented yet: it arrives with issue 3 (model runtime and detector)");
}

}  // namespace

grpc::Status DetectorServiceImpl::Detect(grpc::ServerContext* context, const v1::DetectRequest* request,
                      v1::DetectResponse* response) {
  return Unimplemented("Detect");
}

grpc::Status DetectorServiceImpl::DetectStream(grpc::ServerContext* context,
                      grpc::ServerReaderWriter<v1::DetectResponse, v1::DetectRequest>* stream) {
  return Unimplemented("DetectStream");
}

grpc::Status DetectorServiceImpl::AnalyzeFaces(grpc::ServerContext* context, const v1::AnalyzeFacesRequest* request,
                      v1::AnalyzeFacesResponse* response) {
  return Unimplemented("AnalyzeFaces");
}

grpc::Status DetectorServiceImpl::ListModels(grpc::ServerContext* context, const v1::ListModelsRequest* request,
                      v1::ListModelsResponse* response) {
  return Unimplemented("ListModels");
}

}  // namespace stratus::detector
