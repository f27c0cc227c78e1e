#include "services/ingest/ingest_service.h"

#include <google/protobuf/util/time_util.h>

#include <thread>

#include "common/status.h"

namespace stratus::ingest {
namespace {

using google::protobuf::util::TimeUtil;

int64_t Ms(const google::protobuf::Timestamp& t) {
  return (t.seconds() == 0 && t.nanos() == 0) ? 0 : TimeUtil::TimestampToMilliseconds(t);
}

}  // namespace

grpc::Status IngestServiceImpl::AddStream(grpc::ServerContext*, const v1::AddStreamRequest* request,
                                          v1::AddStreamResponse* response) {
  auto status = ingest_->AddStream(request->config(), request->replace());
  if (!status.ok()) return ToGrpcStatus(status.status());
  *response->mutable_status() = std::move(*status);
  return grpc::Status::OK;
}

grpc::Status IngestServiceImpl::RemoveStream(grpc::ServerContext*,
                                             const v1::RemoveStreamRequest* request,
                                             v1::RemoveStreamResponse*) {
  if (request->name().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "name is empty");
  }
  return ToGrpcStatus(ingest_->RemoveStream(request->name()));
}

grpc::Status IngestServiceImpl::ListStreams(grpc::ServerContext*, const v1::ListStreamsRequest*,
                                            v1::ListStreamsResponse* response) {
  auto streams = ingest_->ListStreams();
  if (!streams.ok()) return ToGrpcStatus(streams.status());
  for (auto& s : *streams) *response->add_streams() = std::move(s);
  return grpc::Status::OK;
}

grpc::Status IngestServiceImpl::ListEvents(grpc::ServerContext*,
                                           const v1::ListEventsRequest* request,
                                           v1::ListEventsResponse* response) {
  if (request->page_size() < 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "page_size must not be negative");
  }
  EventStore::Filter filter;
  filter.stream = request->stream();
  for (int t : request->types()) filter.types.push_back(static_cast<v1::Event::Type>(t));
  filter.start_unix_ms = Ms(request->start());
  filter.end_unix_ms = Ms(request->end());
  auto page = ingest_->events()->List(filter, request->page_size(), request->page_token(),
                                      request->newest_first());
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (auto& e : page->first) *response->add_events() = std::move(e);
  response->set_next_page_token(page->second);
  return grpc::Status::OK;
}

grpc::Status IngestServiceImpl::WatchEvents(grpc::ServerContext* context,
                                            const v1::WatchEventsRequest* request,
                                            grpc::ServerWriter<v1::Event>* writer) {
  EventStore::Filter filter;
  filter.streams.assign(request->streams().begin(), request->streams().end());
  for (int t : request->types()) filter.types.push_back(static_cast<v1::Event::Type>(t));
  int64_t cursor = request->after_id();
  if (cursor <= 0) {
    auto last = ingest_->events()->LastId();
    if (!last.ok()) return ToGrpcStatus(last.status());
    cursor = *last;
  }
  // Polling the table (rather than this replica's memory) delivers every replica's events, and
  // spooled events once they reach the database, in id order.
  while (!context->IsCancelled()) {
    auto events = ingest_->events()->After(cursor, filter, 200);
    if (events.ok()) {
      for (const auto& e : *events) {
        if (!writer->Write(e)) return grpc::Status::OK;
        cursor = e.id();
      }
      if (events->size() == 200) continue;
    }
    std::this_thread::sleep_for(watch_poll_);
  }
  return grpc::Status::OK;
}

grpc::Status IngestServiceImpl::GetStreamFrame(grpc::ServerContext* context,
                                               const v1::GetStreamFrameRequest* request,
                                               v1::GetStreamFrameResponse* response) {
  auto frame = ingest_->GetFrame(
      request->stream(), request->after_sequence(), std::chrono::milliseconds(request->wait_ms()),
      [context] { return context != nullptr && context->IsCancelled(); });
  if (!frame.ok()) return ToGrpcStatus(frame.status());
  response->set_stream(request->stream());
  response->set_sequence(frame->sequence);
  *response->mutable_time() = TimeUtil::NanosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(frame->captured.time_since_epoch())
          .count());
  response->set_width(frame->width);
  response->set_height(frame->height);
  response->set_jpeg(*frame->jpeg);
  for (auto& d : frame->detections) *response->add_detections() = std::move(d);
  return grpc::Status::OK;
}

grpc::Status IngestServiceImpl::GetSnapshot(grpc::ServerContext*,
                                            const v1::GetSnapshotRequest* request,
                                            v1::GetSnapshotResponse* response) {
  auto jpeg = ingest_->ReadSnapshot(request->snapshot_ref());
  if (!jpeg.ok()) return ToGrpcStatus(jpeg.status());
  response->set_jpeg(std::move(*jpeg));
  return grpc::Status::OK;
}

}  // namespace stratus::ingest
