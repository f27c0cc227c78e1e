// The worker's lifecycle, state and live view; its capture thread is in stream_capture.cc, its
// analysis thread in stream_analysis.cc.
#include "services/ingest/stream_worker.h"

#include <google/protobuf/util/time_util.h>

#include <random>

#include "common/logging.h"
#include "services/ingest/stream_series.h"

namespace stratus::ingest {

google::protobuf::Timestamp StreamWorker::Timestamp(Clock::time_point t) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

StreamWorker::StreamWorker(v1::StreamConfig config, WorkerDeps deps, WorkerOptions options)
    : config_(std::move(config)),
      deps_(std::move(deps)),
      options_(std::move(options)),
      open_source_(deps_.open_source ? deps_.open_source : FrameSourceOpener(OpenFrameSource)),
      detector_(deps_.detector, clients::DetectorClient::Options{.address = "detector"}),
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
  if (deps_.mask) {
    mask_.emplace(deps_.mask, clients::MaskClient::Options{.address = "mask",
                                                           .timeout = std::chrono::seconds(5)});
  }
  if (deps_.recognition) {
    recognition_.emplace(deps_.recognition,
                         clients::RecognitionClient::Options{.address = "recognition",
                                                             .timeout = std::chrono::seconds(5)});
  }
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
  *status_.mutable_since() = Timestamp(Clock::now());
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
  *s.mutable_updated() = Timestamp(Clock::now());
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
    *status_.mutable_since() = Timestamp(Clock::now());
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

}  // namespace stratus::ingest
