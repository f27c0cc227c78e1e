#include "services/detector/detector_service.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/image.h"
#include "common/path_root.h"
#include "common/status.h"

namespace stratus::detector {
namespace {

constexpr size_t kMaxBytesByRef = 15 * 1024 * 1024;  // Image.uri
absl::Status InvalidImage(absl::string_view message) {
  return WithReason(absl::InvalidArgumentError(message), "InvalidImageFormatException");
}

absl::Status BadReference(absl::string_view message) {
  return WithReason(absl::InvalidArgumentError(message), "InvalidS3ObjectException");
}

// The gRPC deadline of the call as a steady_clock point; nullopt when the call has none.
std::optional<std::chrono::steady_clock::time_point> Deadline(grpc::ServerContext* context) {
  const auto deadline = context->deadline();
  if (deadline >= std::chrono::system_clock::time_point::max() - std::chrono::hours(24 * 365)) {
    return std::nullopt;
  }
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(
             deadline - std::chrono::system_clock::now());
}

void FillPoint(float x, float y, v1::Point* p) {
  p->set_x(x);
  p->set_y(y);
}

void FillBox(const runtime::Box& b, v1::BoundingBox* out) {
  out->set_left(b.left);
  out->set_top(b.top);
  out->set_width(b.width);
  out->set_height(b.height);
}

// A pixel rectangle as fractions of the image, clipped to [0, 1].
void FillPixelBox(const runtime::PixelRect& r, int w, int h, v1::BoundingBox* out) {
  const double x1 = std::clamp(r.x / w, 0.0, 1.0), y1 = std::clamp(r.y / h, 0.0, 1.0);
  const double x2 = std::clamp((r.x + r.width) / w, 0.0, 1.0);
  const double y2 = std::clamp((r.y + r.height) / h, 0.0, 1.0);
  out->set_left(static_cast<float>(x1));
  out->set_top(static_cast<float>(y1));
  out->set_width(static_cast<float>(x2 - x1));
  out->set_height(static_cast<float>(y2 - y1));
}

void FillDetectResponse(const DetectOutput& out, v1::DetectResponse* response) {
  response->set_model(out.model);
  response->set_model_version(out.version);
  response->mutable_image_size()->set_width(out.image_width);
  response->mutable_image_size()->set_height(out.image_height);
  response->set_inference_ms(static_cast<float>(out.inference_ms));
  response->set_batch_size(out.batch_size);
  response->set_queue_ms(static_cast<float>(out.queue_ms));
  for (const runtime::Detection& d : out.detections) {
    v1::Detection* pd = response->add_detections();
    pd->set_label(d.label);
    pd->set_class_id(d.class_id);
    pd->set_confidence(d.confidence);
    FillBox(d.box, pd->mutable_box());
    for (const runtime::Point& p : d.landmarks) FillPoint(p.x, p.y, pd->add_landmarks());
  }
}

std::future<absl::StatusOr<DetectOutput>> Failed(absl::Status s) {
  std::promise<absl::StatusOr<DetectOutput>> p;
  p.set_value(std::move(s));
  return p.get_future();
}

}  // namespace

absl::StatusOr<DecodedImage> DecodeRequestImage(const v1::Image& image,
                                                const std::string& file_root,
                                                MemoryBudget* budget) {
  std::string from_file;
  std::string_view bytes;
  switch (image.source_case()) {
    case v1::Image::kBytes:
      if (image.bytes().size() > kMaxInlineImageBytes) {
        return WithReason(absl::InvalidArgumentError(absl::StrCat(
                              "image is ", image.bytes().size(),
                              " bytes; the limit for Image.bytes is 5242880 bytes (5 MiB)")),
                          "ImageTooLargeException");
      }
      if (image.bytes().empty()) return InvalidImage("image bytes are empty (zero-sized frame)");
      bytes = image.bytes();
      break;
    case v1::Image::kS3Object:
      return BadReference("this detector has no object store configured: send Image.bytes");
    case v1::Image::kUri: {
      const std::string& uri = image.uri();
      if (uri.rfind("file://", 0) != 0) {
        return BadReference(
            absl::StrCat("image uri '", uri, "': only file:// URIs are accepted by the detector"));
      }
      if (file_root.empty()) {
        return BadReference(
            "file:// image URIs are refused: the detector was started without "
            "--file-root");
      }
      auto path = ResolveUnderRoot(uri.substr(7), file_root);
      if (!path.ok()) {
        return BadReference(absl::StrCat("image uri '", uri, "' is outside the allowed root"));
      }
      auto read = ReadImageFile(path->string(), kMaxBytesByRef);
      if (!read.ok()) {
        if (read.status().code() == absl::StatusCode::kNotFound) {
          return BadReference(read.status().message());
        }
        return WithReason(read.status(), "ImageTooLargeException");
      }
      from_file = std::move(*read);
      bytes = from_file;
      break;
    }
    case v1::Image::SOURCE_NOT_SET:
      return absl::InvalidArgumentError("no image given: set Image.bytes");
  }
  DecodedImage out;
  if (auto info = ProbeImage(bytes); info.ok() && budget != nullptr) {
    // An unreadable header reserves nothing: DecodeImage gives the precise error below.
    const size_t decoded = static_cast<size_t>(std::max(info->width, 0)) *
                           static_cast<size_t>(std::max(info->height, 0)) * 3;
    auto held = budget->Reserve(
        decoded, absl::StrCat("a ", info->width, "x", info->height, " image"));
    if (!held.ok()) return held.status();
    out.bytes = std::move(*held);
  }
  ImageLimits limits;
  limits.max_bytes = kMaxBytesByRef;
  auto mat = DecodeImage(bytes, limits);
  if (!mat.ok()) return InvalidImage(mat.status().message());
  if (mat->empty() || mat->cols <= 0 || mat->rows <= 0) {
    return InvalidImage("the image has no pixels (zero-sized frame)");
  }
  out.pixels = std::move(*mat);
  return out;
}

namespace {

const std::string kUnknownModel = "unknown";

// The gauges of the image memory budget; nullptr without a registry.
metrics::Gauge* ImageBudgetGauge(metrics::Registry* registry, size_t limit) {
  if (registry == nullptr) return nullptr;
  metrics::BuildGauge()
      .Name("stratus_detector_image_bytes_limit")
      .Help("The image memory budget in bytes (0: no bound).")
      .Register(*registry)
      .Add({})
      .Set(static_cast<double>(limit));
  return &metrics::BuildGauge()
              .Name("stratus_detector_image_bytes_reserved")
              .Help("Bytes of decoded request images in flight, reserved from the image memory "
                    "budget.")
              .Register(*registry)
              .Add({});
}

}  // namespace

DetectorServiceImpl::DetectorServiceImpl(Detector* detector, DetectorServiceOptions options)
    : detector_(detector),
      options_(std::move(options)),
      image_budget_(options_.image_memory_budget,
                    ImageBudgetGauge(options_.metrics, options_.image_memory_budget)),
      face_analyses_({.max_running = options_.max_face_analyses,
                      .max_waiting = options_.max_face_analyses_waiting}) {
  if (options_.metrics) {
    requests_ = &metrics::BuildCounter()
                     .Name("stratus_detector_requests_total")
                     .Help(
                         "Detector requests (stream frames counted one by one) by method, "
                         "model and status code.")
                     .Register(*options_.metrics);
  }
  options_.max_stream_in_flight = std::max(1, options_.max_stream_in_flight);
  if (detector_ != nullptr) {
    for (const ModelStatus& m : detector_->ListModels()) known_models_.insert(m.name);
  }
}

void DetectorServiceImpl::Count(const char* method, const std::string& model,
                                const absl::Status& status) {
  if (!requests_) return;
  const std::string& label = model.empty() || known_models_.count(model) ? model : kUnknownModel;
  requests_->Add({{"method", method}, {"model", label}, {"code", StatusCodeLabel(status.code())}})
      .Increment();
}

std::future<absl::StatusOr<DetectOutput>> DetectorServiceImpl::Submit(
    const v1::DetectRequest& request, grpc::ServerContext* context,
    MemoryBudget::Reservation* held) {
  DetectParams params;
  params.model = request.model().empty() ? "objects" : request.model();
  if (request.min_confidence() < 0 || request.min_confidence() > 1 ||
      std::isnan(request.min_confidence())) {
    return Failed(absl::InvalidArgumentError(absl::StrCat(
        "min_confidence must be within (0, 1] (0 = 0.5), got ", request.min_confidence())));
  }
  params.min_confidence = request.min_confidence() == 0 ? 0.5f : request.min_confidence();
  if (request.max_results() < 0 || request.max_results() > 1000) {
    return Failed(absl::InvalidArgumentError(
        absl::StrCat("max_results must be within 0..1000 (0 = 100), got ", request.max_results())));
  }
  params.max_results = request.max_results() == 0 ? 100 : request.max_results();
  params.classes.assign(request.classes().begin(), request.classes().end());
  params.deadline = Deadline(context);
  auto image = DecodeRequestImage(request.image(), options_.file_root, &image_budget_);
  if (!image.ok()) return Failed(image.status());
  *held = std::move(image->bytes);
  return detector_->DetectAsync(std::move(image->pixels), params);
}

grpc::Status DetectorServiceImpl::Detect(grpc::ServerContext* context,
                                         const v1::DetectRequest* request,
                                         v1::DetectResponse* response) {
  MemoryBudget::Reservation held;
  auto out = Submit(*request, context, &held).get();
  const std::string model = request->model().empty() ? "objects" : request->model();
  Count("Detect", model, out.status());
  if (!out.ok()) return ToGrpcStatus(out.status());
  FillDetectResponse(*out, response);
  response->set_sequence(request->sequence());
  return grpc::Status::OK;
}

grpc::Status DetectorServiceImpl::DetectStream(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::DetectResponse, v1::DetectRequest>* stream) {
  struct Slot {
    int64_t sequence = 0;
    std::string model;
    std::future<absl::StatusOr<DetectOutput>> result;
    MemoryBudget::Reservation held;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Slot> slots;  // queued or running, in request order
  bool reader_done = false;
  bool writer_failed = false;
  const size_t limit = static_cast<size_t>(options_.max_stream_in_flight);

  std::thread reader([&] {
    v1::DetectRequest request;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return writer_failed || slots.size() < limit; });
        if (writer_failed) break;
      }
      if (!stream->Read(&request)) break;
      Slot slot;
      slot.sequence = request.sequence();
      slot.model = request.model().empty() ? "objects" : request.model();
      slot.result = Submit(request, context, &slot.held);
      std::lock_guard<std::mutex> lock(mu);
      slots.push_back(std::move(slot));
      cv.notify_all();
    }
    std::lock_guard<std::mutex> lock(mu);
    reader_done = true;
    cv.notify_all();
  });

  for (;;) {
    Slot slot;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return reader_done || !slots.empty(); });
      if (slots.empty()) break;
      slot = std::move(slots.front());
      slots.pop_front();
    }
    absl::StatusOr<DetectOutput> out = slot.result.get();
    slot.held.Release();
    {
      std::lock_guard<std::mutex> lock(mu);
      cv.notify_all();  // room for the reader
    }
    Count("DetectStream", slot.model, out.status());
    v1::DetectResponse response;
    if (out.ok()) {
      FillDetectResponse(*out, &response);
    } else {
      response.set_model(slot.model);
      response.set_error_code(static_cast<int>(out.status().code()));
      response.set_error_message(std::string(out.status().message()));
    }
    response.set_sequence(slot.sequence);
    if (!stream->Write(response)) {
      // The client is gone: stop reading, let the queued frames finish, and end.
      context->TryCancel();
      std::lock_guard<std::mutex> lock(mu);
      writer_failed = true;
      cv.notify_all();
      break;
    }
  }
  reader.join();
  // Frames still queued after a failed write: wait for them so nothing outlives the call.
  for (Slot& s : slots) s.result.wait();
  if (writer_failed || context->IsCancelled()) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "the stream was cancelled");
  }
  return grpc::Status::OK;
}

grpc::Status DetectorServiceImpl::AnalyzeFaces(grpc::ServerContext* context,
                                               const v1::AnalyzeFacesRequest* request,
                                               v1::AnalyzeFacesResponse* response) {
  auto run = [&]() -> absl::Status {
    if (request->faces_size() > 0) {
      return absl::UnimplementedError(
          "AnalyzeFaces with caller-given face boxes is not supported yet: leave `faces` empty "
          "so the detector finds the faces");
    }
    FaceAnalysisParams params;
    if (std::isnan(request->min_confidence()) || request->min_confidence() < 0 ||
        request->min_confidence() > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "min_confidence must be within (0, 1] (0 = 0.5), got ", request->min_confidence()));
    }
    params.min_confidence = request->min_confidence() == 0 ? 0.5f : request->min_confidence();
    if (request->max_faces() < 0 || request->max_faces() > 100) {
      return absl::InvalidArgumentError(
          absl::StrCat("max_faces must be within 0..100 (0 = 100), got ", request->max_faces()));
    }
    params.max_faces = request->max_faces() == 0 ? 100 : request->max_faces();
    params.descriptors = request->descriptors();
    params.attributes = request->attributes();
    params.eye_direction = request->eye_direction();
    STRATUS_ASSIGN_OR_RETURN(
        DecodedImage image, DecodeRequestImage(request->image(), options_.file_root, &image_budget_));
    // A call without a deadline waits at most a minute for its turn.
    const Admission::Clock::time_point deadline =
        Deadline(context).value_or(Admission::Clock::now() + std::chrono::minutes(1));
    STRATUS_ASSIGN_OR_RETURN(Admission::Ticket turn,
                             face_analyses_.Enter(deadline, "AnalyzeFaces"));
    STRATUS_ASSIGN_OR_RETURN(FaceAnalysisOutput out,
                             detector_->AnalyzeFaces(image.pixels, params));
    const int w = out.image_width, h = out.image_height;
    response->mutable_image_size()->set_width(w);
    response->mutable_image_size()->set_height(h);
    response->set_inference_ms(static_cast<float>(out.inference_ms));
    for (const auto& [stage, version] : out.model_versions) {
      (*response->mutable_model_versions())[stage] = version;
    }
    for (const runtime::Face& f : out.faces) {
      v1::FaceAnalysis* fa = response->add_faces();
      FillBox(f.box, fa->mutable_box());
      fa->set_confidence(f.score);
      for (const runtime::Point& p : f.landmarks) {
        FillPoint(p.x / static_cast<float>(w), p.y / static_cast<float>(h), fa->add_landmarks68());
      }
      fa->mutable_pose()->set_roll(f.pose.roll);
      fa->mutable_pose()->set_yaw(f.pose.yaw);
      fa->mutable_pose()->set_pitch(f.pose.pitch);
      fa->mutable_quality()->set_brightness(f.quality.brightness);
      fa->mutable_quality()->set_sharpness(f.quality.sharpness);
      if (params.descriptors) {
        fa->mutable_face_descriptor()->Add(f.descriptor.begin(), f.descriptor.end());
      }
      if (params.attributes) {
        fa->set_age(f.age);
        fa->set_gender(f.gender);
        fa->set_gender_confidence(f.gender_probability);
        for (const auto& [name, p] : f.expressions) (*fa->mutable_expressions())[name] = p;
      }
      if (f.eye_direction) {
        fa->mutable_eye_gaze()->set_yaw(f.eye_direction->yaw);
        fa->mutable_eye_gaze()->set_pitch(f.eye_direction->pitch);
      }
      const runtime::PixelRect& aligned =
          params.descriptors && f.descriptor_rect.width > 0 ? f.descriptor_rect : f.aligned_rect;
      FillPixelBox(aligned, w, h, fa->mutable_aligned_box());
    }
    return absl::OkStatus();
  };
  absl::Status status = run();
  Count("AnalyzeFaces", "faces", status);
  return ToGrpcStatus(status);
}

grpc::Status DetectorServiceImpl::ListModels(grpc::ServerContext* context,
                                             const v1::ListModelsRequest* request,
                                             v1::ListModelsResponse* response) {
  for (const ModelStatus& m : detector_->ListModels()) {
    v1::ModelInfo* info = response->add_models();
    info->set_name(m.name);
    info->set_version(m.version);
    info->set_task(m.task);
    info->set_decoder(m.decoder);
    info->set_device(m.device);
    info->mutable_input_size()->set_width(m.input_width);
    info->mutable_input_size()->set_height(m.input_height);
    info->set_labels(m.labels);
    switch (m.state) {
      case ModelStateKind::kLoading:
        info->set_state(v1::ModelInfo::LOADING);
        break;
      case ModelStateKind::kReady:
        info->set_state(v1::ModelInfo::READY);
        break;
      case ModelStateKind::kFailed:
        info->set_state(v1::ModelInfo::FAILED);
        break;
    }
    info->set_error(m.error);
    info->set_max_batch_size(m.max_batch_size);
  }
  Count("ListModels", "", absl::OkStatus());
  return grpc::Status::OK;
}

}  // namespace stratus::detector
