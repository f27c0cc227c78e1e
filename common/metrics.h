// Prometheus metrics on prometheus-cpp (Debian's prometheus-cpp-dev: core and TextSerializer),
// plus what it lacks: collect hooks (values read at scrape time, such as the /proc process
// metrics) and the build-info gauge.
//
//   Registry registry;
//   auto& requests = BuildCounter().Name("stratus_rpc_requests_total")
//                        .Help("RPCs handled.").Register(registry);
//   requests.Add({{"method", "Detect"}, {"code", "ok"}}).Increment();
//   auto& latency = BuildHistogram().Name("stratus_rpc_duration_seconds").Help("...")
//                       .Register(registry);
//   latency.Add({{"method", "Detect"}}, LatencyBuckets()).Observe(0.004);
//   std::string text = registry.Serialize();  // text exposition format 0.0.4
//   requests.Remove(&requests.Add({{"method", "Detect"}, {"code", "ok"}}));  // series gone
//
// Removing a series (Family::Remove, e.g. those labelled with a stream that is gone) makes
// later scrapes leave it out; the reference Add() returned dangles from then on, so only the
// owner of every such reference may remove it. Adding the same labels again starts at zero.
//
// Thread safety: everything is safe to call concurrently. Families and metrics live as long as
// the registry (or until removed); references returned by Register() and Add() stay valid.
#ifndef STRATUS_COMMON_METRICS_H_
#define STRATUS_COMMON_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/labels.h>
#include <prometheus/registry.h>

#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"

namespace stratus::metrics {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Counter;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Labels;
template <typename T>
using Family = prometheus::Family<T>;

// 0.5 ms .. 10 s, for RPC and inference latencies in seconds.
Histogram::BucketBoundaries LatencyBuckets();
// 1, 2, 4, ... 64: batch sizes.
Histogram::BucketBoundaries BatchBuckets();

// A prometheus::Registry that serialises itself and runs collect hooks first.
class Registry : public prometheus::Registry {
 public:
  // Called at the start of each Serialize(), e.g. to refresh process metrics.
  void AddCollectHook(std::function<void()> hook);

  // The text exposition format 0.0.4.
  std::string Serialize() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::function<void()>> hooks_ ABSL_GUARDED_BY(mu_);
};

// Adds process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds and
// process_start_time_seconds, refreshed on every scrape.
void RegisterProcessMetrics(Registry& registry);

// Adds `<prefix>_build_info{version,revision} 1` (e.g. stratus_build_info), the convention
// Prometheus' own binaries follow, so dashboards can tell which build each replica runs.
void RegisterBuildInfo(Registry& registry, std::string_view prefix = "stratus");

}  // namespace stratus::metrics

#endif  // STRATUS_COMMON_METRICS_H_
