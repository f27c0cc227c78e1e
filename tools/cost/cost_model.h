// What a service's measured load costs per month in each placement, and which is cheapest.
//
// The work of one request is w vCPU-seconds: the profile's override, else the measured CPU time
// per request (process_cpu_seconds_total), else the mean latency (an upper bound). Demand over
// an interval is rate * w vCPUs. Then, with `hours_per_month` H:
//  - dedicated VM: n = max(min_vms, ceil(peak demand / (capacity * target_utilisation))) machines
//    of the cheapest type in the profile, always on, at the 1-year reserved price (on-demand when
//    the file has none). A VM's capacity is its vCPUs plus, for services that use GPUs, gpus *
//    gpu_vcpu_equivalent.
//  - spot VM: the same sizing at the spot price, plus `spot_spare_vms` spare machines so that a
//    reclaimed machine (two minutes' notice) does not stop the service; never the cheapest for
//    a profile that is not interruptible (the detector: live video cannot wait for a new one).
//  - serverless functions: every request is one invocation billed per request and per GB-second
//    for max(mean latency, w / function vCPUs) seconds, function vCPUs = memory / gb_per_vcpu
//    (at most 1: one request runs on one thread). Unavailable for long-lived work.
//  - autoscaled pods: over each measured interval, ceil(demand / (pod_vcpu * utilisation)) pods,
//    at least min_pods (0 = scale to zero), held scale_down_delay_s after the last call, billed per
//    provisioned vCPU and GB; scaled from the window to a month.
// The break-even rate is the sustained request rate at which serverless functions cost as much
// as the dedicated machines that rate needs: below it serverless is cheaper. The break-even
// model's two curves come with it, so that a chart draws what the number was computed from:
// serverless costs `serverless_monthly_per_rps` * rate (a line through 0), dedicated VMs cost
// vm_cost(rate), the cheapest machines sized for that rate sustained (a step function, not the
// dedicated-vm placement above, which is sized for the peak). At break_even_rps both are equal.
#ifndef STRATUS_TOOLS_COST_COST_MODEL_H_
#define STRATUS_TOOLS_COST_COST_MODEL_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/cost/load.h"
#include "tools/cost/prices.h"

namespace stratus::cost {

enum class Placement { kDedicatedVm, kSpotVm, kServerless, kPods };
std::string_view PlacementName(Placement p);  // "dedicated-vm", "spot-vm", "serverless", "pods"

struct PlacementCost {
  Placement placement = Placement::kDedicatedVm;
  bool available = true;
  double monthly = 0;  // In the price file's currency.
  std::string detail;  // What was priced, e.g. "1x c7i.2xlarge reserved-1y".
};

// One point of the dedicated-VM curve: monthly cost of the machines a sustained rate needs.
struct CurvePoint {
  double rps = 0;
  double monthly = 0;
};

struct ServiceCost {
  std::string service;
  double mean_rps = 0, peak_rps = 0, active_fraction = 0;
  double work_s = 0;                      // vCPU-seconds per request used.
  std::string work_source;                // "measured cpu", "latency", "profile".
  std::vector<PlacementCost> placements;  // In Placement order.
  Placement cheapest = Placement::kDedicatedVm;
  // Sustained rate where serverless costs as much as dedicated VMs; nullopt when serverless is
  // unavailable or cheaper at every rate.
  std::optional<double> break_even_rps;
  std::string break_even_note;
  // Serverless monthly cost per req/s sustained; nullopt when serverless is unavailable.
  std::optional<double> serverless_monthly_per_rps;
  // vm_cost over [0, x_max], x_max = max(2 break_even_rps, 2 mean_rps, 1.2 peak_rps, 1e-3),
  // non-decreasing in rps. Every step within the range is drawn exactly: a step edge at rate e
  // is two points (e, before) and (e, after), and vm_cost(x) for e_prev < x <= e is the value
  // on the segment. When the range holds more steps than fit in kMaxCurvePoints, the curve is
  // vm_cost sampled at evenly spaced rates plus at break_even_rps, to be joined by straight
  // lines (then the break-even still lies on it).
  std::vector<CurvePoint> dedicated_curve;
};

inline constexpr int kMaxCurvePoints = 200;

struct CostModelOptions {
  double target_utilisation = 0.6;  // Of a VM's or pod's vCPUs at the peak (headroom).
  int spot_spare_vms = 1;
};

// Prices one service. Errors: NotFound when the price file has no profile for the service;
// InvalidArgument when the load has no requests to derive the work per request from.
absl::StatusOr<ServiceCost> PriceService(const ServiceLoad& load, const PriceFile& prices,
                                         const CostModelOptions& options = {});

}  // namespace stratus::cost

#endif  // STRATUS_TOOLS_COST_COST_MODEL_H_
