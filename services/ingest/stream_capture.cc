// The capture side of a StreamWorker: opening the source, sampling on the stream's clock
// (FrameSampler), motion gating, JPEG encoding and the bounded queue to the analysis thread.
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/trace.h"
#include "services/ingest/frame_sampler.h"
#include "services/ingest/stream_worker.h"

namespace stratus::ingest {

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
      // On the stream's timestamps where it has them: live HTTP sources deliver in bursts.
      FrameSampler sampler(config_.sample_every_n_frames(),
                           config_.sample_fps() > 0 ? config_.sample_fps() : options_.default_fps,
                           src_fps);
      auto start = std::chrono::steady_clock::now();
      const Clock::time_point session_clock = std::max(Clock::now(), last_stream_clock_);
      int64_t index = 0;
      int failures_in_a_row = 0;
      cv::Mat previous_thumb;
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
          const bool sampled = sampler.Sample(source.timestamp(),
                                              std::chrono::duration<double>(now - start).count());
          {
            std::lock_guard<std::mutex> lock(mu_);
            fps_in_ = sampler.fps_in();
          }
          if (!sampled) continue;
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
            frame.stream_clock =
                session_clock + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(sampler.elapsed()));
            last_stream_clock_ = frame.stream_clock;
            frame.width = (*encoded)->width;
            frame.height = (*encoded)->height;
            frame.jpeg = std::move((*encoded)->jpeg);
            frame.queued = std::chrono::steady_clock::now();
            frame.trace = trace::NewTrace();  // its analysis, calls and log lines carry it
            {
              std::lock_guard<std::mutex> lock(mu_);
              queue_.push_back(std::move(frame));
              // The oldest unsent frame goes when the detector is behind: more than
              // max_queued waiting and the oldest has waited too long (a burst is kept whole),
              // or the queue is at its bound whatever the ages.
              while (static_cast<int>(queue_.size()) > options_.max_queued &&
                     (static_cast<int>(queue_.size()) > options_.max_queued_burst ||
                      queue_.back().queued - queue_.front().queued > options_.max_queue_delay)) {
                queue_.pop_front();
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

}  // namespace stratus::ingest
