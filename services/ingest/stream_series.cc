#include "services/ingest/stream_series.h"

namespace stratus::ingest {

std::shared_ptr<StreamSeries> StreamSeries::Acquire(metrics::Registry* registry,
                                                    const std::string& stream) {
  std::lock_guard<std::mutex> lock(Mu());
  auto& slot = Live()[{registry, stream}];
  if (auto live = slot.lock()) return live;
  auto series = std::shared_ptr<StreamSeries>(new StreamSeries(registry, stream), Release);
  slot = series;
  return series;
}

metrics::Counter& StreamSeries::Events(const std::string& type) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& c = events_[type];
  if (c == nullptr) c = &events_family_->Add({{"stream", stream_}, {"type", type}});
  return *c;
}

std::mutex& StreamSeries::Mu() {
  static auto* mu = new std::mutex;
  return *mu;
}
std::map<StreamSeries::Key, std::weak_ptr<StreamSeries>>& StreamSeries::Live() {
  static auto* live = new std::map<Key, std::weak_ptr<StreamSeries>>;
  return *live;
}

StreamSeries::StreamSeries(metrics::Registry* registry, const std::string& stream)
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
  analysis_family_ = &metrics::BuildHistogram()
                          .Name("stratus_ingest_analysis_latency_seconds")
                          .Help("From frame capture to the detector's answer; stream=\"*\" is all.")
                          .Register(*registry);
  analysis_latency = &analysis_family_->Add({{"stream", stream}}, metrics::LatencyBuckets());
  analysis_latency_all = &analysis_family_->Add({{"stream", "*"}}, metrics::LatencyBuckets());
}

void StreamSeries::Release(StreamSeries* s) {
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

}  // namespace stratus::ingest
