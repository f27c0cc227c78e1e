// The metric series labelled with one stream in one registry (stratus_ingest_frames_total,
// _events_total, _event_latency_seconds, _analysis_latency_seconds), shared by that stream's
// workers (a worker and the one replacing it) and removed from the registry by the last of them.
// Acquire() and the removal run under one process-wide lock, so a worker created while its
// predecessor is being destroyed either shares the live series or gets fresh ones, never ones
// about to be removed. Thread-safe.
#ifndef STRATUS_SERVICES_INGEST_STREAM_SERIES_H_
#define STRATUS_SERVICES_INGEST_STREAM_SERIES_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "common/metrics.h"

namespace stratus::ingest {

class StreamSeries {
 public:
  static std::shared_ptr<StreamSeries> Acquire(metrics::Registry* registry,
                                               const std::string& stream);

  // The counter of recorded events of `type` (created on first use).
  metrics::Counter& Events(const std::string& type);

  metrics::Counter* frames_in;
  metrics::Counter* frames_analysed;
  metrics::Counter* frames_dropped;
  metrics::Counter* frames_failed;
  metrics::Histogram* event_latency;
  metrics::Histogram* analysis_latency;
  metrics::Histogram* analysis_latency_all;  // stream="*": never removed

 private:
  using Key = std::pair<const metrics::Registry*, std::string>;
  static std::mutex& Mu();
  static std::map<Key, std::weak_ptr<StreamSeries>>& Live();

  StreamSeries(metrics::Registry* registry, const std::string& stream);
  // The deleter: removes the series unless a successor for the same stream was acquired
  // meanwhile (it holds the same series then, and takes over the event types seen).
  static void Release(StreamSeries* s);

  const metrics::Registry* registry_;
  const std::string stream_;
  metrics::Family<metrics::Counter>* frames_family_;
  metrics::Family<metrics::Counter>* events_family_;
  metrics::Family<metrics::Histogram>* event_latency_family_;
  metrics::Family<metrics::Histogram>* analysis_family_;
  std::mutex mu_;
  std::map<std::string, metrics::Counter*> events_;  // guarded by mu_
};

}  // namespace stratus::ingest

#endif  // STRATUS_SERVICES_INGEST_STREAM_SERIES_H_
