// gRPC adapter of the ingest service: Pulls live video, analyses frames and publishes events.
// Until issue 7 (stream ingest) lands, every RPC answers UNIMPLEMENTED naming what is missing.
#ifndef STRATUS_SERVICES_INGEST_INGEST_SERVICE_H_
#define STRATUS_SERVICES_INGEST_INGEST_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "stratus/v1/ingest.grpc.pb.h"

namespace stratus::ingest {

namespace v1 = ::stratus::v1;

class IngestServiceImpl final : public v1::IngestService::Service {
 public:
  grpc::Status AddStream(grpc::ServerContext* context, const v1::AddStreamRequest* request,
                      v1::AddStreamResponse* response) override;
  grpc::Status RemoveStream(grpc::ServerContext* context, const v1::RemoveStreamRequest* request,
                      v1::RemoveStreamResponse* response) override;
  grpc::Status ListStreams(grpc::ServerContext* context, const v1::ListStreamsRequest* request,
                      v1::ListStreamsResponse* response) override;
  grpc::Status ListEvents(grpc::ServerContext* context, const v1::ListEventsRequest* request,
                      v1::ListEventsResponse* response) override;
  grpc::Status WatchEvents(grpc::ServerContext* context, const v1::WatchEventsRequest* request,
                      grpc::ServerWriter<v1::Event>* writer) override;
};

}  // namespace stratus::ingest

#endif  // STRATUS_SERVICES_INGEST_INGEST_SERVICE_H_
