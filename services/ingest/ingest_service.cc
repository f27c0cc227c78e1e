#include "services/ingest/ingest_service.h"

#include <string>

namespace stratus::ingest {
namespace {

grpc::Status Unimplemented(const std::string& rpc) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      rpc + " is not implemented yet: it arrives with issue 7 (stream ingest)");
}

}  // namespace

grpc::Status IngestServiceImpl::AddStream(grpc::ServerContext* context, const v1::AddStreamRequest* request,
                      v1::AddStreamResponse* response) {
  return Unimplemented("AddStream");
}

grpc::Status IngestServiceImpl::RemoveStream(grpc::ServerContext* context, const v1::RemoveStreamRequest* request,
                      v1::RemoveStreamResponse* response) {
  return Unimplemented("RemoveStream");
}

grpc::Status IngestServiceImpl::ListStreams(grpc::ServerContext* context, const v1::ListStreamsRequest* request,
                      v1::ListStreamsResponse* response) {
  return Unimplemented("ListStreams");
}

grpc::Status IngestServiceImpl::ListEvents(grpc::ServerContext* context, const v1::ListEventsRequest* request,
                      v1::ListEventsResponse* response) {
  return Unimplemented("ListEvents");
}

grpc::Status IngestServiceImpl::WatchEvents(grpc::ServerContext* context, const v1::WatchEventsRequest* request,
                      grpc::ServerWriter<v1::Event>* writer) {
  return Unimplemented("WatchEvents");
}

}  // namespace stratus::ingest
