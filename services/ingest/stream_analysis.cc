// The analysis side of a StreamWorker: the DetectStream session with the detector, tracking,
// the mask and recognition calls about new face tracks, and events (database, MQTT, metrics).
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/trace.h"
#include "services/ingest/stream_series.h"
#include "services/ingest/stream_worker.h"

namespace stratus::ingest {
namespace {

namespace fs = std::filesystem;

double Ema(double prev, double sample) { return prev == 0 ? sample : prev * 0.8 + sample * 0.2; }

}  // namespace

void StreamWorker::AnalysisLoop() {
  int attempt = 0;
  while (true) {
    auto start = std::chrono::steady_clock::now();
    bool clean = false;
    try {
      clean = RunDetectorSession();
    } catch (const std::exception& e) {
      SLOG(ERROR) << "analysis failed" << Kv("stream", config_.name()) << Kv("error", e.what());
      NoteError(absl::StrCat("analysis: ", e.what()));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    if (clean || std::chrono::steady_clock::now() - start > std::chrono::seconds(30)) attempt = 0;
    if (!SleepUnlessStopped(Backoff(attempt++))) return;
  }
}

bool StreamWorker::RunDetectorSession() {
  // The DetectStream call is one for the whole session: it carries the session's trace, and
  // each frame's results are handled in the frame's own (see Frame::trace).
  trace::TraceScope session_trace(trace::NewTrace());
  grpc::ClientContext ctx;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return true;
    session_ = &ctx;
  }
  auto stream = detector_.DetectStream(&ctx);
  const bool want_faces = Wants(v1::StreamConfig::FACES) || Wants(v1::StreamConfig::MASKS) ||
                          Wants(v1::StreamConfig::FACE_SEARCH);
  const bool want_objects = Wants(v1::StreamConfig::OBJECTS) || !want_faces;
  const int per_frame = (want_objects ? 1 : 0) + (want_faces ? 1 : 0);
  struct Pending {
    Frame frame;
    std::optional<v1::DetectResponse> objects, faces;
    int answered = 0;
  };
  std::deque<Pending> pending;
  int outstanding = 0;
  std::string failure;
  auto make_request = [&](const Frame& f, const std::string& model, int64_t seq) {
    v1::DetectRequest req;
    req.set_model(model);
    req.mutable_image()->set_bytes(f.jpeg);
    req.set_min_confidence(config_.min_confidence() > 0 ? config_.min_confidence() : 0.5f);
    if (model == "objects") {
      req.add_classes("person");
      for (const auto& c : config_.classes()) {
        if (c != "person") req.add_classes(c);
      }
    }
    req.set_sequence(seq);
    return req;
  };
  while (true) {
    std::optional<Frame> next;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] {
        return stop_ || outstanding > 0 ||
               (!queue_.empty() && outstanding + per_frame <= options_.max_in_flight * per_frame);
      });
      if (stop_) break;
      if (!queue_.empty() && outstanding + per_frame <= options_.max_in_flight * per_frame) {
        next = std::move(queue_.front());
        queue_.pop_front();
      }
    }
    if (next) {
      bool ok = true;
      if (want_objects) ok = stream->Write(make_request(*next, "objects", next->sequence * 2));
      if (ok && want_faces)
        ok = stream->Write(make_request(*next, "faces", next->sequence * 2 + 1));
      if (!ok) {
        failure = "detector stream closed";
        break;
      }
      outstanding += per_frame;
      pending.push_back({std::move(*next)});
      continue;
    }
    v1::DetectResponse resp;
    if (!stream->Read(&resp)) {
      failure = "detector stream closed";
      break;
    }
    outstanding--;
    if (pending.empty()) continue;
    Pending& p = pending.front();
    if (resp.error_code() != 0) {
      NoteError(absl::StrCat("detector: ", resp.error_message()));
    }
    if (resp.sequence() % 2 == 0) {
      p.objects = std::move(resp);
    } else {
      p.faces = std::move(resp);
    }
    if (++p.answered == per_frame) {
      // One frame whose results cannot be handled (OpenCV on a face crop, a snapshot) is
      // counted and skipped; the session goes on.
      try {
        trace::TraceScope frame_trace(p.frame.trace);
        HandleResults(p.frame, p.objects ? &*p.objects : nullptr, p.faces ? &*p.faces : nullptr);
      } catch (const std::exception& e) {
        frames_failed_->Increment();
        NoteError(absl::StrCat("analysis: ", e.what()));
      }
      pending.pop_front();
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    session_ = nullptr;
    if (stop_) {
      ctx.TryCancel();
      return true;
    }
  }
  stream->WritesDone();
  grpc::Status s = stream->Finish();
  std::string error = absl::StrCat("detector unavailable: ", s.ok() ? failure : s.error_message());
  std::lock_guard<std::mutex> lock(mu_);
  status_.set_last_error(error);
  return false;
}

void StreamWorker::HandleResults(const Frame& frame, const v1::DetectResponse* objects,
                                 const v1::DetectResponse* faces) {
  frames_analysed_->Increment();
  double latency = std::chrono::duration<double>(Clock::now() - frame.captured).count();
  analysis_latency_->Observe(latency);
  analysis_latency_all_->Observe(latency);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (last_analysed_ != Clock::time_point{}) {
      double dt = std::chrono::duration<double>(frame.stream_clock - last_analysed_).count();
      if (dt > 0) fps_analysed_ = Ema(fps_analysed_, 1.0 / dt);
    }
    last_analysed_ = frame.stream_clock;
  }
  std::vector<v1::FrameDetection> drawn;
  auto draw = [&drawn](const std::vector<v1::Detection>& dets, const Tracker::Update& update) {
    for (size_t i = 0; i < dets.size(); ++i) {
      v1::FrameDetection& d = drawn.emplace_back();
      d.set_label(dets[i].label());
      d.set_confidence(dets[i].confidence());
      *d.mutable_box() = dets[i].box();
      d.set_track_id(i < update.track_ids.size() ? update.track_ids[i] : 0);
    }
  };
  std::optional<Tracker::Update> object_update, face_update;
  if (objects != nullptr) {
    std::vector<v1::Detection> dets(objects->detections().begin(), objects->detections().end());
    object_update = people_.Observe(dets, frame.stream_clock);
    draw(dets, *object_update);
  }
  if (faces != nullptr) {
    std::vector<v1::Detection> dets(faces->detections().begin(), faces->detections().end());
    for (auto& d : dets) d.set_label("face");
    face_update = faces_.Observe(dets, frame.stream_clock);
    draw(dets, *face_update);
  }
  // Shown before the events are recorded and before the mask and recognition calls below.
  PublishFrame(frame, std::move(drawn));
  if (object_update) {
    const Tracker::Update& update = *object_update;
    for (const auto& t : update.appeared) {
      v1::Event e;
      e.set_type(t.label == "person" ? v1::Event::PERSON_APPEARED : v1::Event::OBJECT_DETECTED);
      e.set_track_id(t.id);
      *e.add_boxes() = t.box;
      e.add_labels(t.label);
      e.add_confidences(t.confidence);
      Emit(std::move(e), frame, true);
    }
    for (const auto& t : update.left) {
      if (t.label != "person") continue;
      v1::Event e;
      e.set_type(v1::Event::PERSON_LEFT);
      e.set_track_id(t.id);
      *e.add_boxes() = t.box;
      e.add_labels(t.label);
      e.add_confidences(t.confidence);
      Emit(std::move(e), frame, false);
    }
  }
  if (!face_update) return;
  for (const auto& t : face_update->appeared) {
    if (Wants(v1::StreamConfig::MASKS) && mask_) {
      v1::ClassifyRequest req;
      req.mutable_image()->set_bytes(frame.jpeg);
      *req.add_boxes() = t.box;
      absl::StatusOr<v1::ClassifyResponse> classified = mask_->Classify(req);
      if (!classified.ok()) {
        NoteError(absl::StrCat("mask: ", classified.status().message()));
      } else if (const v1::ClassifyResponse& resp = *classified;
                 !resp.results().empty() && resp.results(0).label() != "with_mask") {
        v1::Event e;
        e.set_type(v1::Event::FACE_WITHOUT_MASK);
        e.set_track_id(t.id);
        *e.add_boxes() = t.box;
        e.add_labels(resp.results(0).label());
        e.add_confidences(resp.results(0).confidence());
        Emit(std::move(e), frame, true);
      }
    }
    if (Wants(v1::StreamConfig::FACE_SEARCH) && recognition_ && !config_.collection_id().empty()) {
      // Search with the face's crop (with a margin), so the largest face is this one.
      cv::Mat img =
          cv::imdecode(cv::Mat(1, frame.jpeg.size(), CV_8UC1, const_cast<char*>(frame.jpeg.data())),
                       cv::IMREAD_COLOR);
      if (img.empty()) continue;
      float m = 0.25f;
      int x0 = std::max(0, static_cast<int>((t.box.left() - m * t.box.width()) * img.cols));
      int y0 = std::max(0, static_cast<int>((t.box.top() - m * t.box.height()) * img.rows));
      int x1 =
          std::min(img.cols, static_cast<int>((t.box.left() + (1 + m) * t.box.width()) * img.cols));
      int y1 =
          std::min(img.rows, static_cast<int>((t.box.top() + (1 + m) * t.box.height()) * img.rows));
      if (x1 - x0 < 16 || y1 - y0 < 16) continue;
      std::vector<uchar> buf;
      cv::imencode(".jpg", img(cv::Rect(x0, y0, x1 - x0, y1 - y0)), buf);
      v1::SearchFacesByImageRequest req;
      req.set_collection_id(config_.collection_id());
      req.mutable_image()->set_bytes(std::string(buf.begin(), buf.end()));
      req.set_max_faces(1);
      if (config_.face_match_threshold() > 0)
        req.set_face_match_threshold(config_.face_match_threshold());
      absl::StatusOr<v1::SearchFacesByImageResponse> searched =
          recognition_->Call(&v1::RecognitionService::Stub::SearchFacesByImage, req, CallKind::kIndexed);
      if (!searched.ok()) {
        NoteError(absl::StrCat("recognition: ", searched.status().message()));
      } else if (const v1::SearchFacesByImageResponse& resp = *searched;
                 !resp.face_matches().empty()) {
        const auto& match = resp.face_matches(0);
        v1::Event e;
        e.set_type(v1::Event::FACE_MATCHED);
        e.set_track_id(t.id);
        *e.add_boxes() = t.box;
        e.add_confidences(t.confidence);
        e.set_face_id(match.face().face_id());
        e.set_similarity(match.similarity());
        e.set_collection_id(config_.collection_id());
        e.set_external_image_id(match.face().external_image_id());
        Emit(std::move(e), frame, true);
      }
    }
  }
}

void StreamWorker::Emit(v1::Event event, const Frame& frame, bool snapshot) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  event.set_uid(
      absl::StrCat(absl::Hex(rng(), absl::kZeroPad16), absl::Hex(rng(), absl::kZeroPad16)));
  event.set_stream(config_.name());
  event.set_replica(deps_.replica);
  event.set_lease_epoch(deps_.lease_epoch);
  *event.mutable_time() = Timestamp(frame.captured);
  if (snapshot && !deps_.snapshot_dir.empty()) {
    fs::path dir = fs::path(deps_.snapshot_dir) / config_.name();
    std::error_code ec;
    fs::create_directories(dir, ec);
    fs::path file = dir / (event.uid() + ".jpg");
    std::ofstream out(file, std::ios::binary);
    out.write(frame.jpeg.data(), static_cast<std::streamsize>(frame.jpeg.size()));
    if (out) event.set_snapshot_ref("file://" + file.string());
  }
  const std::string type = v1::Event::Type_Name(event.type());
  if (deps_.mqtt) deps_.mqtt->PublishEvent(event, snapshot ? std::string_view(frame.jpeg) : "");
  absl::Status s = deps_.events ? deps_.events->Record(std::move(event)) : absl::OkStatus();
  if (!s.ok()) {
    SLOG(ERROR) << "event lost" << Kv("stream", config_.name()) << Kv("error", s.message());
    return;
  }
  series_->Events(type).Increment();
  event_latency_->Observe(std::chrono::duration<double>(Clock::now() - frame.captured).count());
}

}  // namespace stratus::ingest
