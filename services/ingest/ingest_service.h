// gRPC adapter of the ingest service (stratus.v1.IngestService): thin handlers over Ingest.
// GetStreamFrame's long-poll ends early when the caller cancels.
#ifndef STRATUS_SERVICES_INGEST_INGEST_SERVICE_H_
#define STRATUS_SERVICES_INGEST_INGEST_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "services/ingest/ingest.h"
#include "stratus/v1/ingest.grpc.pb.h"

namespace stratus::ingest {

class IngestServiceImpl final : public v1::IngestService::Service {
 public:
  // `ingest` is not owned. WatchEvents polls the event table every `watch_poll`.
  explicit IngestServiceImpl(Ingest* ingest,
                             std::chrono::milliseconds watch_poll = std::chrono::milliseconds(200))
      : ingest_(ingest), watch_poll_(watch_poll) {}

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
  grpc::Status GetStreamFrame(grpc::ServerContext* context,
                              const v1::GetStreamFrameRequest* request,
                              v1::GetStreamFrameResponse* response) override;
  grpc::Status GetSnapshot(grpc::ServerContext* context, const v1::GetSnapshotRequest* request,
                           v1::GetSnapshotResponse* response) override;

 private:
  Ingest* ingest_;
  std::chrono::milliseconds watch_poll_;
};

}  // namespace stratus::ingest

#endif  // STRATUS_SERVICES_INGEST_INGEST_SERVICE_H_
