// gRPC adapter of the detector service (proto/stratus/v1/detector.proto). Thin handlers: each
// RPC validates the request, decodes the image (common/image.h), calls the core
// (services/detector/detector.h), converts the status and counts the request by method, model
// and code (stratus_detector_requests_total; a model name the detector does not know is counted
// as model="unknown", so callers cannot create series without bound).
//
// DetectStream: a reader thread reads frames, decodes them and queues them to the batcher
// (at most `max_stream_in_flight` frames of one stream queued or running; beyond that it stops
// reading, so gRPC flow control pushes back on the sender); the handler thread writes the
// responses strictly in request order. A frame that fails gets its error in its response and
// the stream goes on.
//
// Images: `bytes` (at most 5 MiB); `uri` only as file:// under `file_root` when one is set
// (else refused with InvalidS3ObjectException); `s3_object` is refused (no object store).
//
// Memory and load are bounded: every request reserves its decoded image's bytes (width x height
// x 3, read from the header) in one budget shared by all calls before decoding it, and holds
// them until its answer is written; AnalyzeFaces calls run at most `max_face_analyses` at once
// with at most `max_face_analyses_waiting` more in line. Beyond either bound a call fails at
// once with RESOURCE_EXHAUSTED (retryable; AWS ThrottlingException), which the caller counts
// like any other code. stratus_detector_image_bytes_reserved shows the budget in use.
//
// Thread safety: the handlers run concurrently on gRPC's threads; the detector is not owned and
// must outlive the service.
#ifndef STRATUS_SERVICES_DETECTOR_DETECTOR_SERVICE_H_
#define STRATUS_SERVICES_DETECTOR_DETECTOR_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <opencv2/core.hpp>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "common/admission.h"
#include "common/memory_budget.h"
#include "common/metrics.h"
#include "services/detector/detector.h"
#include "stratus/v1/detector.grpc.pb.h"

namespace stratus::detector {

namespace v1 = ::stratus::v1;

struct DetectorServiceOptions {
  // Frames of one DetectStream queued or running at once.
  int max_stream_in_flight = 16;
  // Image.uri file:// paths must lie under this folder; empty: uri images are refused.
  std::string file_root;
  // Decoded images of all requests in flight, in bytes (0: no bound).
  size_t image_memory_budget = size_t{1} << 30;
  // AnalyzeFaces calls running at once, and waiting for a turn beyond those.
  int max_face_analyses = 2;
  int max_face_analyses_waiting = 64;
  // Request counters go here; not owned. nullptr: none.
  metrics::Registry* metrics = nullptr;
};

// A request's image, decoded, with the budget bytes it holds.
struct DecodedImage {
  cv::Mat pixels;                   // 8-bit RGB
  MemoryBudget::Reservation bytes;  // given back when the image is done with
};

// Decodes the image of a request to 8-bit RGB, with the error reasons of common.proto
// (InvalidImageFormatException, ImageTooLargeException, InvalidS3ObjectException) attached as
// an ErrorInfo payload. With a `budget`, the decoded size is reserved from it first
// (RESOURCE_EXHAUSTED when it does not fit, before anything is decoded).
absl::StatusOr<DecodedImage> DecodeRequestImage(const v1::Image& image,
                                                const std::string& file_root,
                                                MemoryBudget* budget = nullptr);

class DetectorServiceImpl final : public v1::DetectorService::Service {
 public:
  DetectorServiceImpl(Detector* detector, DetectorServiceOptions options);

  grpc::Status Detect(grpc::ServerContext* context, const v1::DetectRequest* request,
                      v1::DetectResponse* response) override;
  grpc::Status DetectStream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::DetectResponse, v1::DetectRequest>* stream) override;
  grpc::Status AnalyzeFaces(grpc::ServerContext* context, const v1::AnalyzeFacesRequest* request,
                            v1::AnalyzeFacesResponse* response) override;
  grpc::Status ListModels(grpc::ServerContext* context, const v1::ListModelsRequest* request,
                          v1::ListModelsResponse* response) override;

 private:
  // Validates and decodes `request` and queues it; errors come back through the future.
  // `held` receives the image's budget bytes, to keep until the future is done.
  std::future<absl::StatusOr<DetectOutput>> Submit(const v1::DetectRequest& request,
                                                   grpc::ServerContext* context,
                                                   MemoryBudget::Reservation* held);
  void Count(const char* method, const std::string& model, const absl::Status& status);

  Detector* detector_;
  DetectorServiceOptions options_;
  metrics::Family<metrics::Counter>* requests_ = nullptr;
  std::set<std::string> known_models_;  // the detector's models (planned at Create)
  MemoryBudget image_budget_;
  Admission face_analyses_;
};

}  // namespace stratus::detector

#endif  // STRATUS_SERVICES_DETECTOR_DETECTOR_SERVICE_H_
