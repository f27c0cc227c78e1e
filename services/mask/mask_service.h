// gRPC adapter of the mask service: Classifies faces: with mask, without mask, mask worn incorrectly.
// Until issue 5 (mask classifier) lands, every RPC answers UNIMPLEMENTED naming what is missing.
#ifndef STRATUS_SERVICES_MASK_MASK_SERVICE_H_
#define STRATUS_SERVICES_MASK_MASK_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "stratus/v1/mask.grpc.pb.h"

namespace stratus::mask {

namespace v1 = ::stratus::v1;

class MaskServiceImpl final : public v1::MaskService::Service {
 public:
  grpc::Status Classify(grpc::ServerContext* context, const v1::ClassifyRequest* request,
                      v1::ClassifyResponse* response) override;
};

}  // namespace stratus::mask

#endif  // STRATUS_SERVICES_MASK_MASK_SERVICE_H_
