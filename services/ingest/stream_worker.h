// Runs one video stream: decode, sample, gate, analyse, track, and emit events.
//
// Two threads per stream. The capture thread opens the source through OpenCV's FFmpeg backend
// (RTSP over TCP or UDP, HTTP MJPEG/MPEG-TS/HLS, files paced to their frame rate), grabs every
// frame but decodes only the sampled ones (every Nth frame, or N per second of the stream's own
// clock: its presentation timestamps, see FrameSampler, so bursty live sources are sampled at
// the asked rate), optionally skips frames without motion, and queues them as JPEG.
//
// When the detector is slower than the source, the oldest unsent frame is dropped (counted):
// once more than `max_queued` wait and the oldest has waited `max_queue_delay` longer than the
// newest, or `max_queued_burst` wait. So a burst (an HLS segment's frames) is analysed whole
// when the detector keeps up on average, and memory stays bounded.
//
// When the source fails or ends, it reconnects with exponential backoff and jitter (1 s
// doubling to 30 s, +-20%). A frame that fails (the source or OpenCV throws while reading,
// decoding, gating or encoding it, or it does not decode) is counted (stage="failed") and
// skipped; the stream's last_error says why. A source whose frames keep failing
// (`max_consecutive_frame_errors` in a row) is closed and the stream goes to FAILED with the
// reason; it is reopened after `max_backoff`. Nothing a source or OpenCV throws leaves the
// worker's threads: the process and its other streams carry on.
//
// The analysis thread sends queued frames to the detector over one DetectStream call with at
// most `max_in_flight` requests outstanding, tracks people (and faces, and classes of interest)
// with an IoU tracker, asks the mask and recognition services about new face tracks when the
// stream asks for it, and records events. When the detector is down it keeps retrying with
// backoff and reports it as the stream's last error; analysis resumes by itself.
//
// Tracing: every sampled frame starts a trace (W3C trace context, common/trace.h); the mask and
// recognition calls about it and the log lines of its analysis carry it. The DetectStream call
// carries its session's trace (one call for many frames).
//
// Files: stream_worker.cc (lifecycle, status, live view), stream_capture.cc (capture thread),
// stream_analysis.cc (analysis thread), stream_series.h (the metric series).
//
// The last analysed frame (its JPEG as queued, not re-encoded, with what the detector found in
// it and the track ids the trackers gave) is kept for the live view: WaitForFrame() answers with
// it, waiting for a newer one when asked. It is published as soon as the trackers have seen the
// frame, before any mask or recognition call about it.
//
// Metrics: the series labelled with the stream (stratus_ingest_frames_total, _events_total,
// _event_latency_seconds, _analysis_latency_seconds) are shared by the workers of one stream in
// a registry (a worker and the one replacing it) and removed from the registry when the last of
// them is destroyed, so a stream that is gone from this replica leaves no series behind.
//
// Thread-safe: status() and WaitForFrame() may be called from any thread.
#ifndef STRATUS_SERVICES_INGEST_STREAM_WORKER_H_
#define STRATUS_SERVICES_INGEST_STREAM_WORKER_H_

#include <google/protobuf/timestamp.pb.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "clients/cpp/detector_client.h"
#include "clients/cpp/mask_client.h"
#include "clients/cpp/service_client.h"
#include "common/metrics.h"
#include "common/trace.h"
#include "services/ingest/event_store.h"
#include "services/ingest/frame_source.h"
#include "services/ingest/mqtt_publisher.h"
#include "services/ingest/source_policy.h"
#include "services/ingest/track_ids.h"
#include "services/ingest/tracker.h"
#include "stratus/v1/detector.grpc.pb.h"
#include "stratus/v1/ingest.pb.h"
#include "stratus/v1/mask.grpc.pb.h"
#include "stratus/v1/recognition.grpc.pb.h"

namespace stratus::ingest {

struct WorkerDeps {
  EventStore* events = nullptr;                // null: events are only counted
  std::shared_ptr<grpc::Channel> detector;     // required
  std::shared_ptr<grpc::Channel> mask;         // for MASKS
  std::shared_ptr<grpc::Channel> recognition;  // for FACE_SEARCH
  metrics::Registry* metrics = nullptr;        // required
  std::string replica;
  int64_t lease_epoch = 0;                // stamped on every event (0: not fenced)
  std::string snapshot_dir;               // "" = no snapshots
  const SourcePolicy* sources = nullptr;  // checked on every connect (Ingest always sets it;
                                          // null only where a test injects open_source)
  MqttPublisher* mqtt = nullptr;          // null: no MQTT
  // Where the stream's track ids come from (people and faces share it); null: each tracker
  // counts from 1 (tests without a database).
  std::shared_ptr<TrackIds> track_ids;
  FrameSourceOpener open_source;  // empty = OpenFrameSource (OpenCV)
};

struct WorkerOptions {
  int max_queued = 2;  // sampled frames waiting for the detector, kept whatever their age
  std::chrono::milliseconds max_queue_delay{1000};  // more are kept while this much younger
  int max_queued_burst = 64;                        // ... up to this many
  int max_in_flight = 2;                            // detector requests outstanding
  double default_fps = 5;                           // sampling when the config sets neither rate
  int jpeg_quality = 85;
  double motion_threshold = 2.0;  // mean absolute difference (0..255) on a 64x36 thumbnail
  std::chrono::milliseconds max_backoff{30000};
  int max_consecutive_frame_errors = 25;  // failed frames in a row before the source is FAILED
  Tracker::Options person_tracking;
};

class StreamSeries;  // stream_series.h

class StreamWorker {
 public:
  // An analysed frame with what was found in it.
  struct LatestFrame {
    int64_t sequence = 0;  // 1, 2, ... per sampled frame since the worker started
    Clock::time_point captured;
    int width = 0, height = 0;
    std::shared_ptr<const std::string> jpeg;     // never null; shared, not copied, per caller
    std::vector<v1::FrameDetection> detections;  // objects first, then faces
  };

  StreamWorker(v1::StreamConfig config, WorkerDeps deps, WorkerOptions options);
  ~StreamWorker();  // stops and joins

  void Start();
  // Stops and joins the threads; wakes WaitForFrame() callers.
  void Stop();
  v1::StreamStatus status() const;
  // The last analysed frame, once its sequence is greater than `after_sequence`, or when `wait`
  // has passed or the worker stops, whichever comes first (then it may be an older frame);
  // nullopt when no frame has been analysed yet. `wait` <= 0 answers at once.
  std::optional<LatestFrame> WaitForFrame(int64_t after_sequence,
                                          std::chrono::milliseconds wait) const;
  bool stopped() const;
  const v1::StreamConfig& config() const { return config_; }
  int64_t lease_epoch() const { return deps_.lease_epoch; }
  const std::shared_ptr<TrackIds>& track_ids() const { return deps_.track_ids; }

 private:
  struct Frame {
    int64_t sequence = 0;
    Clock::time_point captured;
    // Its time on the stream's clock (FrameSampler::elapsed() from the session's start, which
    // is anchored at wall time and never before an earlier session's frames): what the trackers
    // and fps_analysed measure, so frames that arrive in bursts are as far apart as filmed.
    Clock::time_point stream_clock;
    int width = 0, height = 0;
    std::string jpeg;
    std::chrono::steady_clock::time_point queued;  // when it joined the queue
    trace::TraceContext trace;                     // the frame's own trace
  };
  struct Encoded {
    std::string jpeg;
    int width = 0, height = 0;
  };

  static google::protobuf::Timestamp Timestamp(Clock::time_point t);

  void CaptureThread();
  void CaptureLoop();
  // The sampled frame as JPEG; nullopt when motion gating finds it still. Never throws.
  absl::StatusOr<std::optional<Encoded>> EncodeSampled(FrameSource& source,
                                                       cv::Mat& previous_thumb);
  void AnalysisLoop();
  bool RunDetectorSession();
  void HandleResults(const Frame& frame, const v1::DetectResponse* objects,
                     const v1::DetectResponse* faces);
  // Keeps `frame` as the latest, with the detections drawn from it, and wakes the waiters.
  void PublishFrame(const Frame& frame, std::vector<v1::FrameDetection> detections);
  void Emit(v1::Event event, const Frame& frame, bool snapshot);
  void SetState(v1::StreamStatus::State state, const std::string& error);
  void NoteError(const std::string& error);  // last_error, state unchanged
  bool SleepUnlessStopped(std::chrono::milliseconds d);
  std::chrono::milliseconds Backoff(int attempt);
  bool Wants(v1::StreamConfig::Analysis a) const;

  const v1::StreamConfig config_;
  const WorkerDeps deps_;
  const WorkerOptions options_;
  const FrameSourceOpener open_source_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::deque<Frame> queue_;
  v1::StreamStatus status_;
  double fps_in_ = 0, fps_analysed_ = 0;
  Clock::time_point last_analysed_{};         // stream_clock of the last analysed frame
  Clock::time_point last_stream_clock_{};     // of the last queued frame; capture thread only
  std::optional<LatestFrame> latest_;         // guarded by mu_
  mutable std::condition_variable frame_cv_;  // latest_ changed or stop_ set
  int64_t sequence_ = 0;                      // of the last sampled frame; capture thread only

  // Over deps_.detector: the DetectStream sessions.
  clients::DetectorClient detector_;
  // From deps_.mask and deps_.recognition (unset without them); 5 s per call, so that a slow
  // service holds a stream's analysis back for at most that long per new face.
  std::optional<clients::MaskClient> mask_;
  std::optional<clients::RecognitionClient> recognition_;
  Tracker people_;
  Tracker faces_;
  std::thread capture_thread_;
  std::thread analysis_thread_;
  grpc::ClientContext* session_ = nullptr;  // the live DetectStream call, to cancel on Stop

  std::shared_ptr<StreamSeries> series_;  // owns the pointers below
  metrics::Counter* frames_in_;
  metrics::Counter* frames_analysed_;
  metrics::Counter* frames_dropped_;
  metrics::Counter* frames_failed_;
  metrics::Histogram* event_latency_;
  metrics::Histogram* analysis_latency_;
  metrics::Histogram* analysis_latency_all_;
};

}  // namespace stratus::ingest

#endif  // STRATUS_SERVICES_INGEST_STREAM_WORKER_H_
