#include "runtime/batcher.h"

namespace stratus::runtime {

BatcherMetrics BatcherMetrics::For(metrics::Registry* registry, const std::string& model) {
  BatcherMetrics m;
  if (registry == nullptr) return m;
  const metrics::Labels labels{{"model", model}};
  m.queue_depth = &metrics::BuildGauge()
                       .Name("stratus_detector_queue_depth")
                       .Help("Requests waiting in the dynamic batcher's queue, per model.")
                       .Register(*registry)
                       .Add(labels);
  m.batch_size = &metrics::BuildHistogram()
                      .Name("stratus_detector_batch_size")
                      .Help("Images per batch the dynamic batcher ran, per model.")
                      .Register(*registry)
                      .Add(labels, metrics::BatchBuckets());
  m.inference_seconds = &metrics::BuildHistogram()
                             .Name("stratus_detector_inference_seconds")
                             .Help(
                                 "Wall time of one batch through the model (forward and "
                                 "decoding), per model.")
                             .Register(*registry)
                             .Add(labels, metrics::LatencyBuckets());
  return m;
}

absl::Status ValidateBatcherOptions(const BatcherOptions& options) {
  if (options.max_batch_size < 1 || options.max_batch_size > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("max batch size must be 1..1024, got ", options.max_batch_size));
  }
  if (options.max_queue_delay.count() < 0 || options.max_queue_delay > std::chrono::seconds(10)) {
    return absl::InvalidArgumentError(absl::StrCat("max queue delay must be 0..10000 ms, got ",
                                                   options.max_queue_delay.count() / 1000.0,
                                                   " ms"));
  }
  if (options.max_queue_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max queue size must be at least 1, got ", options.max_queue_size));
  }
  return absl::OkStatus();
}

}  // namespace stratus::runtime
