// Time series of Prometheus samples, read from the two places a user has them:
//  - the Prometheus text exposition format (what a service's /metrics returns). A recording is
//    one or more scrapes concatenated, each sample line carrying its timestamp in milliseconds
//    (`name{labels} value 1764144000000`), as the exposition format allows; sample lines without a
//    timestamp take the caller's `default_time_s`.
//  - the JSON answer of Prometheus' /api/v1/query_range (resultType "matrix") for raw counters,
//    e.g. query={__name__=~"stratus_rpc_.*|process_cpu_seconds_total"}.
// Both yield the same Series, so the cost model does not care where the numbers came from.
//
// Functions here are pure; nothing is shared; errors are InvalidArgument with the line number.
#ifndef STRATUS_TOOLS_COST_METRICS_H_
#define STRATUS_TOOLS_COST_METRICS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace stratus::cost {

struct Sample {
  double time_s = 0;  // Unix seconds.
  double value = 0;
};

using Labels = std::map<std::string, std::string>;

struct Series {
  std::string name;             // Metric name, e.g. "stratus_rpc_requests_total".
  Labels labels;                // Without __name__.
  std::vector<Sample> samples;  // Sorted by time, one per distinct time.
};

// Parses Prometheus text exposition format. Comment lines (# HELP, # TYPE, others) are skipped.
// Samples of the same name and labels are merged into one Series, sorted by time.
absl::StatusOr<std::vector<Series>> ParsePrometheusText(absl::string_view text,
                                                        double default_time_s);

// Parses a Prometheus HTTP API answer with resultType "matrix" (query_range) or "vector"
// (instant query). Errors on status != "success".
absl::StatusOr<std::vector<Series>> ParseQueryRangeJson(absl::string_view json);

// Adds `extra` to `into`, merging series with the same name and labels.
void MergeSeries(std::vector<Series>& into, std::vector<Series> extra);

// The increase of a counter over its samples, counting resets (a drop restarts from zero) the
// way Prometheus' increase() does, without extrapolation.
double CounterIncrease(const std::vector<Sample>& samples);

}  // namespace stratus::cost

#endif  // STRATUS_TOOLS_COST_METRICS_H_
