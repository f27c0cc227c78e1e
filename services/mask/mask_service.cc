#include "services/mask/mask_service.h"

#include <string>

namespace stratus::mask {
namespace {

grpc::Status Unimplemented(const std::string& rpc) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      rpc + " is not implemented yet: it arrives with issue 5 (mask classifier)");
}

}  // namespace

grpc::Status MaskServiceImpl::Classify(grpc::ServerContext* context, const v1::ClassifyRequest* request,
                      v1::ClassifyResponse* response) {
  return Unimplemented("Classify");
}

}  // namespace stratus::mask
