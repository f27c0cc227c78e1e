// The load of each service, measured from its metrics: request rate over time, CPU time and
// latency per request. This is the input of the cost model (cost_model.h).
//
// Metrics used (names from common/metrics):
//   stratus_rpc_requests_total{service,method,code}     counter; every call, errors included
//   stratus_rpc_duration_seconds_sum / _count{service,method}   mean latency
//   process_cpu_seconds_total                            CPU time of the process
// A series belongs to a service by, in this order: the service the caller assigned to the whole
// input (one recording file per service), the Prometheus `job` label, the `service` label. Names
// are normalised: "stratus-detector", "stratus.v1.DetectorService" and "detector" are the same.
// Health checks and server reflection (methods Check, Watch, ServerReflectionInfo) are not load
// and are left out: probes would otherwise keep every service busy.
#ifndef STRATUS_TOOLS_COST_LOAD_H_
#define STRATUS_TOOLS_COST_LOAD_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/cost/metrics.h"

namespace stratus::cost {

// One interval between two consecutive scrapes.
struct Interval {
  double start_s = 0;
  double end_s = 0;
  double requests = 0;     // Calls in the interval.
  double cpu_seconds = 0;  // CPU time in the interval (0 where not measured).
};

struct ServiceLoad {
  std::string service;
  std::vector<Interval> intervals;  // Sorted, contiguous.
  double window_s = 0;              // Observed time, end of last minus start of first.
  double requests = 0;              // Calls over the window.
  double mean_rps = 0;
  double peak_rps = 0;         // Highest rate over one interval.
  double active_fraction = 0;  // Share of the window in intervals that saw a call.
  std::optional<double> cpu_seconds_per_request;  // When process_cpu_seconds_total is there.
  std::optional<double> mean_latency_s;           // When the duration histogram is there.
};

// "stratus-detector" -> "detector", "stratus.v1.DetectorService" -> "detector".
std::string NormaliseServiceName(absl::string_view name);

// Which service a series belongs to; empty when it cannot be told. `assigned` wins when set.
std::string ServiceOfSeries(const Series& series, absl::string_view assigned);

// Groups `series` by service and measures each service's load. `assigned` as above (empty: by
// labels). Services without at least two scrapes of stratus_rpc_requests_total are left out.
// Errors: InvalidArgument when no service has a measurable load.
absl::StatusOr<std::map<std::string, ServiceLoad>> ExtractLoads(const std::vector<Series>& series,
                                                                absl::string_view assigned = "");

}  // namespace stratus::cost

#endif  // STRATUS_TOOLS_COST_LOAD_H_
