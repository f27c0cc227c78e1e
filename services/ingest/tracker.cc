#include "services/ingest/tracker.h"

#include <algorithm>

namespace stratus::ingest {

float Iou(const v1::BoundingBox& a, const v1::BoundingBox& b) {
  float x1 = std::max(a.left(), b.left());
  float y1 = std::max(a.top(), b.top());
  float x2 = std::min(a.left() + a.width(), b.left() + b.width());
  float y2 = std::min(a.top() + a.height(), b.top() + b.height());
  float inter = std::max(0.f, x2 - x1) * std::max(0.f, y2 - y1);
  float uni = a.width() * a.height() + b.width() * b.height() - inter;
  return uni <= 0 ? 0 : inter / uni;
}

Tracker::Update Tracker::Observe(const std::vector<v1::Detection>& detections,
                                 Clock::time_point now) {
  Update update;
  update.track_ids.assign(detections.size(), 0);
  std::vector<const v1::Detection*> dets;
  std::vector<size_t> index;  // dets[i] is detections[index[i]]
  for (size_t i = 0; i < detections.size(); ++i) {
    if (options_.labels.count(detections[i].label())) {
      dets.push_back(&detections[i]);
      index.push_back(i);
    }
  }
  // All candidate pairs above the threshold, best first.
  struct Pair {
    float iou;
    size_t track;
    size_t det;
  };
  std::vector<Pair> pairs;
  for (size_t t = 0; t < tracks_.size(); ++t) {
    for (size_t d = 0; d < dets.size(); ++d) {
      if (tracks_[t].label != dets[d]->label()) continue;
      float iou = Iou(tracks_[t].box, dets[d]->box());
      if (iou >= options_.iou_threshold) pairs.push_back({iou, t, d});
    }
  }
  std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) { return a.iou > b.iou; });
  std::vector<bool> track_used(tracks_.size(), false), det_used(dets.size(), false);
  for (const auto& p : pairs) {
    if (track_used[p.track] || det_used[p.det]) continue;
    track_used[p.track] = det_used[p.det] = true;
    Track& t = tracks_[p.track];
    t.box = dets[p.det]->box();
    t.confidence = std::max(t.confidence, dets[p.det]->confidence());
    t.last_seen = now;
    t.hits++;
    if (!t.announced && t.hits >= options_.min_hits) {
      t.announced = true;
      update.appeared.push_back(t);
    }
    if (t.announced) update.track_ids[index[p.det]] = t.id;
  }
  // Expire unmatched tracks.
  std::vector<Track> kept;
  for (size_t i = 0; i < tracks_.size(); ++i) {
    Track& t = tracks_[i];
    if (!track_used[i] && now - t.last_seen > options_.max_age) {
      if (t.announced) update.left.push_back(t);
      continue;
    }
    kept.push_back(std::move(t));
  }
  tracks_ = std::move(kept);
  // New tentative tracks.
  for (size_t d = 0; d < dets.size(); ++d) {
    if (det_used[d]) continue;
    Track t;
    t.id = options_.next_id ? options_.next_id() : next_id_++;
    t.label = dets[d]->label();
    t.box = dets[d]->box();
    t.confidence = dets[d]->confidence();
    t.first_seen = t.last_seen = now;
    t.hits = 1;
    if (options_.min_hits <= 1) {
      t.announced = true;
      update.appeared.push_back(t);
      update.track_ids[index[d]] = t.id;
    }
    tracks_.push_back(std::move(t));
  }
  return update;
}

Tracker::Update Tracker::Flush() {
  Update update;
  for (auto& t : tracks_) {
    if (t.announced) update.left.push_back(t);
  }
  tracks_.clear();
  return update;
}

}  // namespace stratus::ingest
