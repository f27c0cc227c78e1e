// Simple multi-object tracking by IoU, so that one person walking through the frame is one
// track (one PERSON_APPEARED, one PERSON_LEFT), not an event per frame.
//
// Each Observe() matches the frame's detections of the tracked labels to live tracks greedily by
// IoU (highest first, at least `iou_threshold`, same label). A track is announced ("appeared")
// after `min_hits` matched frames, and ends ("left") when unmatched for longer than `max_age`.
// Unmatched detections start tentative tracks. The update also says which announced track each
// detection belongs to (for drawing boxes with their track ids). Not thread-safe: one tracker per
// stream.
#ifndef STRATUS_SERVICES_INGEST_TRACKER_H_
#define STRATUS_SERVICES_INGEST_TRACKER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "stratus/v1/detector.pb.h"

namespace stratus::ingest {

using Clock = std::chrono::system_clock;

struct Track {
  int64_t id = 0;
  std::string label;
  v1::BoundingBox box;   // latest
  float confidence = 0;  // best seen
  Clock::time_point first_seen;
  Clock::time_point last_seen;
  int hits = 0;
  bool announced = false;
};

class Tracker {
 public:
  struct Options {
    float iou_threshold = 0.3f;                 // to continue a track
    int min_hits = 2;                           // frames before a track is announced
    std::chrono::milliseconds max_age{2000};    // unmatched this long: the track ends
    std::set<std::string> labels = {"person"};  // what to track; others are ignored
    // Where new tracks get their ids (e.g. TrackIds::Next, shared by a stream's trackers);
    // empty: 1, 2, 3, ... per tracker.
    std::function<int64_t()> next_id;
  };
  struct Update {
    std::vector<Track> appeared;
    std::vector<Track> left;  // only tracks that had been announced
    // Observe(): for each detection passed in (same order), the id of the announced track it
    // belongs to now; 0 when it is not tracked (a label not tracked, or a track not yet
    // announced). Empty after Flush().
    std::vector<int64_t> track_ids;
  };

  explicit Tracker(Options options) : options_(std::move(options)) {}

  Update Observe(const std::vector<v1::Detection>& detections, Clock::time_point now);
  // Ends every track (stream stopped).
  Update Flush();

  const std::vector<Track>& tracks() const { return tracks_; }

 private:
  Options options_;
  std::vector<Track> tracks_;
  int64_t next_id_ = 1;
};

float Iou(const v1::BoundingBox& a, const v1::BoundingBox& b);

}  // namespace stratus::ingest

#endif  // STRATUS_SERVICES_INGEST_TRACKER_H_
