#include "services/ingest/stream_worker.h"

#include <google/protobuf/util/time_util.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace stratus::ingest {
namespace fs = std::filesystem;
namespace {

using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp ToProto(Clock::time_point t) {
  return TimeUtil::NanosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

double Ema(double prev, double sample) { return prev == 0 ? sample : prev * 0.8 + sample * 0.2; }

}  // namespace

// The series labelled with one stream in one registry, shared by that stream's workers and
// removed from the registry by the last of them. Acquire() and the removal run under one
// process-wide lock, so a worker created while its predecessor is being destroyed either
// shares the live series or gets fresh ones, never ones about to be removed.
class StreamSeries {
 public:
  static std::shared_ptr<StreamSeries> Acquire(metrics::Registry* registry,
                                               const std::string& stream) {
    std::lock_guard<std::mutex> lock(Mu());
    auto& slot = Live()[{registry, stream}];
    if (auto live = slot.lock()) return live;
    auto series = std::shared_ptr<StreamSeries>(new StreamSeries(registry, stream), Release);
    slot = series;
    return series;
  }

  metrics::Counter& Events(const std::string& type) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& c = events_[type];
    if (c == nullptr) c = &events_family_->Add({{"stream", stream_}, {"type", type}});
    return *c;
  }

  metrics::Counter* frames_in;
  metrics::Counter* frames_analysed;
  metrics::Counter* frames_dropped;
  metrics::Counter* frames_failed;
  metrics::Histogram* event_latency;
  metrics::Histogram* analysis_latency;
  metrics::Histogram* analysis_latency_all;  // stream="*": never removed

 private:
  using Key = std::pair<const metrics::Registry*, std::string>;
  static std::mutex& Mu() {
    static auto* mu = new std::mutex;
    return *mu;
  }
  static std::map<Key, std::weak_ptr<StreamSeries>>& Live() {
    static auto* live = new std::map<Key, std::weak_ptr<StreamSeries>>;
    return *live;
  }

  StreamSeries(metrics::Registry* registry, const std::string& stream)
      : registry_(registry), stream_(stream) {
    frames_family_ = &metrics::BuildCounter()
                          .Name("stratus_ingest_frames_total")
                          .Help(
                              "Frames per stream and stage: in (read from the source), analysed "
                              "(answered by the detector), dropped (detector too slow), failed "
                              "(could not be read, decoded or handled; skipped).")
                          .Register(*registry);
    frames_in = &frames_family_->Add({{"stream", stream}, {"stage", "in"}});
    frames_analysed = &frames_family_->Add({{"stream", stream}, {"stage", "analysed"}});
    frames_dropped = &frames_family_->Add({{"stream", stream}, {"stage", "dropped"}});
    frames_failed = &frames_family_->Add({{"stream", stream}, {"stage", "failed"}});
    events_family_ = &metrics::BuildCounter()
                          .Name("stratus_ingest_events_total")
                          .Help("Events recorded, by stream and type.")
                          .Register(*registry);
    event_latency_family_ = &metrics::BuildHistogram()
                                 .Name("stratus_ingest_event_latency_seconds")
                                 .Help("From frame capture to the event being recorded.")
                                 .Register(*registry);
    event_latency = &event_latency_family_->Add({{"stream", stream}}, metrics::LatencyBuckets());
    analysis_family_ =
        &metrics::BuildHistogram()
             .Name("stratus_ingest_analysis_latency_seconds")
             .Help("From frame capture to the detector's answer; stream=\"*\" is all.")
             .Register(*registry);
    analysis_latency = &analysis_family_->Add({{"stream", stream}}, metrics::LatencyBuckets());
    analysis_latency_all = &analysis_family_->Add({{"stream", "*"}}, metrics::LatencyBuckets());
  }

  // The deleter: removes the series unless a successor for the same stream was acquired
  // meanwhile (it holds the same series then, and takes over the event types seen).
  static void Release(StreamSeries* s) {
    {
      std::lock_guard<std::mutex> lock(Mu());
      auto it = Live().find({s->registry_, s->stream_});
      std::shared_ptr<StreamSeries> successor;
      if (it != Live().end()) successor = it->second.lock();
      if (successor != nullptr) {
        std::lock_guard<std::mutex> l(successor->mu_);
        for (const auto& [type, c] : s->events_) successor->events_.emplace(type, c);
      } else {
        if (it != Live().end()) Live().erase(it);
        s->frames_family_->Remove(s->frames_in);
        s->frames_family_->Remove(s->frames_analysed);
        s->frames_family_->Remove(s->frames_dropped);
        s->frames_family_->Remove(s->frames_failed);
        for (const auto& [type, c] : s->events_) s->events_family_->Remove(c);
        s->event_latency_family_->Remove(s->event_latency);
        s->analysis_family_->Remove(s->analysis_latency);
      }
    }
    delete s;
  }

  const metrics::Registry* registry_;
  const std::string stream_;
  metrics::Family<metrics::Counter>* frames_family_;
  metrics::Family<metrics::Counter>* events_family_;
  metrics::Family<metrics::Histogram>* event_latency_family_;
  metrics::Family<metrics::Histogram>* analysis_family_;
  std::mutex mu_;  // guards events_
  std::map<std::string, metrics::Counter*> events_;
};

StreamWorker::StreamWorker(v1::StreamConfig config, WorkerDeps deps, WorkerOptions options)
    : config_(std::move(config)),
      deps_(std::move(deps)),
      options_(std::move(options)),
      open_source_(deps_.open_source ? deps_.open_source : FrameSourceOpener(OpenFrameSource)),
      people_([this] {
        Tracker::Options o = options_.person_tracking;
        o.labels = {"person"};
        for (const auto& c : config_.classes()) o.labels.insert(c);
        if (deps_.track_ids) o.next_id = [ids = deps_.track_ids] { return ids->Next(); };
        return o;
      }()),
      faces_([this] {
        Tracker::Options o = options_.person_tracking;
        o.labels = {"face"};
        if (deps_.track_ids) o.next_id = [ids = deps_.track_ids] { return ids->Next(); };
        return o;
      }()) {
  series_ = StreamSeries::Acquire(deps_.metrics, config_.name());
  frames_in_ = series_->frames_in;
  frames_analysed_ = series_->frames_analysed;
  frames_dropped_ = series_->frames_dropped;
  frames_failed_ = series_->frames_failed;
  event_latency_ = series_->event_latency;
  analysis_latency_ = series_->analysis_latency;
  analysis_latency_all_ = series_->analysis_latency_all;
  *status_.mutable_config() = config_;
  status_.set_state(v1::StreamStatus::PENDING);
  status_.set_owner(deps_.replica);
  *status_.mutable_since() = ToProto(Clock::now());
}

StreamWorker::~StreamWorker() { Stop(); }

void StreamWorker::Start() {
  capture_thread_ = std::thread([this] { CaptureThread(); });
  analysis_thread_ = std::thread([this] { AnalysisLoop(); });
}

void StreamWorker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ && !capture_thread_.joinable()) return;
    stop_ = true;
    if (session_ != nullptr) session_->TryCancel();
  }
  cv_.notify_all();
  frame_cv_.notify_all();
  if (capture_thread_.joinable()) capture_thread_.join();
  if (analysis_thread_.joinable()) analysis_thread_.join();
  SetState(v1::StreamStatus::STOPPED, "");
}

bool StreamWorker::Wants(v1::StreamConfig::Analysis a) const {
  if (config_.analyses().empty()) return a == v1::StreamConfig::OBJECTS;
  for (int x : config_.analyses()) {
    if (x == a) return true;
  }
  return false;
}

v1::StreamStatus StreamWorker::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  v1::StreamStatus s = status_;
  s.set_fps_in(static_cast<float>(fps_in_));
  s.set_fps_analysed(static_cast<float>(fps_analysed_));
  s.set_frames_dropped(static_cast<int64_t>(frames_dropped_->Value()));
  s.set_frames_analysed(static_cast<int64_t>(frames_analysed_->Value()));
  *s.mutable_updated() = ToProto(Clock::now());
  return s;
}

std::optional<StreamWorker::LatestFrame> StreamWorker::WaitForFrame(
    int64_t after_sequence, std::chrono::milliseconds wait) const {
  std::unique_lock<std::mutex> lock(mu_);
  if (wait.count() > 0) {
    frame_cv_.wait_for(lock, wait, [&] {
      return stop_ || (latest_.has_value() && latest_->sequence > after_sequence);
    });
  }
  return latest_;
}

bool StreamWorker::stopped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stop_;
}

void StreamWorker::PublishFrame(const Frame& frame, std::vector<v1::FrameDetection> detections) {
  LatestFrame latest;
  latest.sequence = frame.sequence;
  latest.captured = frame.captured;
  latest.width = frame.width;
  latest.height = frame.height;
  latest.jpeg = std::make_shared<const std::string>(frame.jpeg);
  latest.detections = std::move(detections);
  {
    std::lock_guard<std::mutex> lock(mu_);
    latest_ = std::move(latest);
  }
  frame_cv_.notify_all();
}

void StreamWorker::SetState(v1::StreamStatus::State state, const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  if (status_.state() != state) {
    status_.set_state(state);
    *status_.mutable_since() = ToProto(Clock::now());
    SLOG(INFO) << "stream state" << Kv("stream", config_.name())
               << Kv("state", v1::StreamStatus::State_Name(state))
               << Kv("error", error.empty() ? "-" : error);
  }
  if (!error.empty() || state == v1::StreamStatus::RUNNING) status_.set_last_error(error);
}

void StreamWorker::NoteError(const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  status_.set_last_error(error);
}

bool StreamWorker::SleepUnlessStopped(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return stop_; });
}

std::chrono::milliseconds StreamWorker::Backoff(int attempt) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  double base = 1000.0 * (1 << std::min(attempt, 5));
  base = std::min(base, static_cast<double>(options_.max_backoff.count()));
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  return std::chrono::milliseconds(static_cast<int64_t>(base * jitter(rng)));
}

void StreamWorker::CaptureThread() {
  // The per-frame guard in CaptureLoop() takes what OpenCV and the source throw; anything
  // thrown outside it (e.g. out of memory) ends this session and the loop starts again later,
  // the process and its other streams carry on.
  for (;;) {
    std::string error;
    try {
      CaptureLoop();
      return;
    } catch (const std::exception& e) {
      error = e.what();
    } catch (...) {
      error = "unknown exception";
    }
    SLOG(ERROR) << "capture failed" << Kv("stream", config_.name()) << Kv("error", error);
    SetState(v1::StreamStatus::FAILED, absl::StrCat("capture: ", error));
    if (!SleepUnlessStopped(options_.max_backoff)) return;
  }
}

absl::StatusOr<std::optional<StreamWorker::Encoded>> StreamWorker::EncodeSampled(
    FrameSource& source, cv::Mat& previous_thumb) {
  try {
    cv::Mat bgr;
    if (!source.Retrieve(&bgr) || bgr.empty()) return absl::DataLossError("cannot decode frame");
    if (config_.motion_gating()) {
      cv::Mat gray, thumb;
      cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
      cv::resize(gray, thumb, cv::Size(64, 36), 0, 0, cv::INTER_AREA);
      bool still = false;
      if (!previous_thumb.empty()) {
        cv::Mat diff;
        cv::absdiff(thumb, previous_thumb, diff);
        still = cv::mean(diff)[0] < options_.motion_threshold;
      }
      previous_thumb = thumb;
      if (still) return std::nullopt;
    }
    std::vector<uchar> buf;
    if (!cv::imencode(".jpg", bgr, buf, {cv::IMWRITE_JPEG_QUALITY, options_.jpeg_quality})) {
      return absl::InternalError("cannot encode frame as JPEG");
    }
    return Encoded{std::string(buf.begin(), buf.end()), bgr.cols, bgr.rows};
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("frame: ", e.what()));
  } catch (...) {
    return absl::InternalError("frame: unknown exception");
  }
}

void StreamWorker::CaptureLoop() {
  int attempt = 0;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    SetState(v1::StreamStatus::CONNECTING, "");
    // Asked again on every connect: a name may resolve elsewhere now, a file may have moved.
    const absl::StatusOr<std::string> target = deps_.sources != nullptr
                                                   ? deps_.sources->Check(config_.uri())
                                                   : absl::StatusOr<std::string>(config_.uri());
    absl::StatusOr<std::unique_ptr<FrameSource>> opened = absl::UnknownError("not opened");
    if (target.ok()) {
      v1::StreamConfig checked = config_;
      checked.set_uri(*target);
      opened = open_source_(checked);
    }
    std::string error;
    bool failing = false;  // the session ended because its frames kept failing
    if (!target.ok()) {
      error = absl::StrCat("source refused: ", target.status().message());
    } else if (!opened.ok()) {
      error = std::string(opened.status().message());
    } else {
      FrameSource& source = **opened;
      attempt = 0;
      SetState(v1::StreamStatus::RUNNING, "");
      double src_fps = source.fps();
      if (!(src_fps > 0 && src_fps < 240)) src_fps = 25;
      const bool paced = source.needs_pacing();
      const double sample_fps =
          config_.sample_fps() > 0 ? config_.sample_fps() : options_.default_fps;
      const auto sample_period = std::chrono::duration<double>(1.0 / sample_fps);
      auto start = std::chrono::steady_clock::now();
      auto last_sample = std::chrono::steady_clock::time_point{};
      int64_t index = 0;
      int failures_in_a_row = 0;
      cv::Mat previous_thumb;
      auto last_in = std::chrono::steady_clock::now();
      while (true) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (stop_) return;
        }
        std::string frame_error;
        bool grabbed = false;
        try {
          grabbed = source.Grab();
        } catch (const std::exception& e) {
          frame_error = absl::StrCat("read: ", e.what());
        } catch (...) {
          frame_error = "read: unknown exception";
        }
        if (frame_error.empty() && !grabbed) {
          error = paced ? "end of file" : "source stopped sending frames";
          break;
        }
        if (frame_error.empty()) {
          ++index;
          frames_in_->Increment();
          auto now = std::chrono::steady_clock::now();
          {
            std::lock_guard<std::mutex> lock(mu_);
            double dt = std::chrono::duration<double>(now - last_in).count();
            if (dt > 0) fps_in_ = Ema(fps_in_, 1.0 / dt);
          }
          last_in = now;
          if (paced) {
            // A file plays in real time, as a camera would.
            auto due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                   std::chrono::duration<double>(index / src_fps));
            if (due > now &&
                !SleepUnlessStopped(
                    std::chrono::duration_cast<std::chrono::milliseconds>(due - now))) {
              return;
            }
            now = std::chrono::steady_clock::now();
          }
          bool sampled = config_.sample_every_n_frames() > 0
                             ? index % config_.sample_every_n_frames() == 0
                             : now - last_sample >= sample_period;
          if (!sampled) continue;
          last_sample = now;
          absl::StatusOr<std::optional<Encoded>> encoded = EncodeSampled(source, previous_thumb);
          if (!encoded.ok()) {
            frame_error = std::string(encoded.status().message());
          } else {
            failures_in_a_row = 0;
            if (!encoded->has_value()) continue;  // no motion
            Frame frame;
            // A member, so that sequences keep growing when the capture loop starts again.
            frame.sequence = ++sequence_;
            frame.captured = Clock::now();
            frame.width = (*encoded)->width;
            frame.height = (*encoded)->height;
            frame.jpeg = std::move((*encoded)->jpeg);
            {
              std::lock_guard<std::mutex> lock(mu_);
              queue_.push_back(std::move(frame));
              while (static_cast<int>(queue_.size()) > options_.max_queued) {
                queue_.pop_front();  // the oldest unsent frame: the detector is behind
                frames_dropped_->Increment();
              }
            }
            cv_.notify_all();
            continue;
          }
        }
        // The frame failed: counted and skipped, unless the source keeps failing.
        frames_failed_->Increment();
        if (++failures_in_a_row >= options_.max_consecutive_frame_errors) {
          error = absl::StrCat(failures_in_a_row,
                               " frames in a row failed, the last with: ", frame_error);
          failing = true;
          break;
        }
        if (failures_in_a_row == 1) {
          SLOG(WARNING) << "frame failed; skipped" << Kv("stream", config_.name())
                        << Kv("error", frame_error);
        }
        NoteError(frame_error);
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      status_.set_reconnects(status_.reconnects() + 1);
    }
    if (failing) {
      SetState(v1::StreamStatus::FAILED, error);
      if (!SleepUnlessStopped(options_.max_backoff)) return;
    } else {
      SetState(v1::StreamStatus::BACKING_OFF, error);
      if (!SleepUnlessStopped(Backoff(attempt++))) return;
    }
  }
}

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
  auto stub = v1::DetectorService::NewStub(deps_.detector);
  grpc::ClientContext ctx;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return true;
    session_ = &ctx;
  }
  auto stream = stub->DetectStream(&ctx);
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
    auto now = Clock::now();
    if (last_analysed_ != Clock::time_point{}) {
      double dt = std::chrono::duration<double>(now - last_analysed_).count();
      if (dt > 0) fps_analysed_ = Ema(fps_analysed_, 1.0 / dt);
    }
    last_analysed_ = now;
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
    object_update = people_.Observe(dets, frame.captured);
    draw(dets, *object_update);
  }
  if (faces != nullptr) {
    std::vector<v1::Detection> dets(faces->detections().begin(), faces->detections().end());
    for (auto& d : dets) d.set_label("face");
    face_update = faces_.Observe(dets, frame.captured);
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
    if (Wants(v1::StreamConfig::MASKS) && deps_.mask) {
      auto stub = v1::MaskService::NewStub(deps_.mask);
      v1::ClassifyRequest req;
      req.mutable_image()->set_bytes(frame.jpeg);
      *req.add_boxes() = t.box;
      v1::ClassifyResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      grpc::Status s = stub->Classify(&ctx, req, &resp);
      if (!s.ok()) {
        NoteError(absl::StrCat("mask: ", s.error_message()));
      } else if (!resp.results().empty() && resp.results(0).label() != "with_mask") {
        v1::Event e;
        e.set_type(v1::Event::FACE_WITHOUT_MASK);
        e.set_track_id(t.id);
        *e.add_boxes() = t.box;
        e.add_labels(resp.results(0).label());
        e.add_confidences(resp.results(0).confidence());
        Emit(std::move(e), frame, true);
      }
    }
    if (Wants(v1::StreamConfig::FACE_SEARCH) && deps_.recognition &&
        !config_.collection_id().empty()) {
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
      auto stub = v1::RecognitionService::NewStub(deps_.recognition);
      v1::SearchFacesByImageRequest req;
      req.set_collection_id(config_.collection_id());
      req.mutable_image()->set_bytes(std::string(buf.begin(), buf.end()));
      req.set_max_faces(1);
      if (config_.face_match_threshold() > 0)
        req.set_face_match_threshold(config_.face_match_threshold());
      v1::SearchFacesByImageResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      grpc::Status s = stub->SearchFacesByImage(&ctx, req, &resp);
      if (!s.ok()) {
        NoteError(absl::StrCat("recognition: ", s.error_message()));
      } else if (!resp.face_matches().empty()) {
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
  *event.mutable_time() = ToProto(frame.captured);
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
