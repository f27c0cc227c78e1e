#include "tools/cost/cost_model.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace stratus::cost {
namespace {

struct VmChoice {
  double monthly = std::numeric_limits<double>::infinity();
  std::string detail;
};

double Capacity(const VmPrice& vm, const ServiceProfile& profile) {
  return vm.vcpu + (profile.uses_gpu ? vm.gpus * vm.gpu_vcpu_equivalent : 0.0);
}

int MachinesFor(double demand_vcpu, double capacity, double utilisation, int min_vms) {
  // A small epsilon keeps an exact multiple from rounding up through floating-point noise.
  double n = std::ceil(demand_vcpu / (capacity * utilisation) - 1e-9);
  return std::max(min_vms, static_cast<int>(std::max(0.0, n)));
}

// Cheapest machines of the profile's types for a demand; `spot` prices spot and adds spares.
VmChoice CheapestVms(double demand_vcpu, const PriceFile& prices, const ServiceProfile& profile,
                     const CostModelOptions& options, bool spot) {
  VmChoice best;
  for (const std::string& type : profile.vm_types) {
    const VmPrice& vm = prices.vms.at(type);
    if (spot && !vm.spot) continue;
    int n = MachinesFor(demand_vcpu, Capacity(vm, profile), options.target_utilisation,
                        profile.min_vms);
    double hourly = spot ? *vm.spot : vm.reserved_1y.value_or(vm.on_demand);
    int count = n + (spot ? options.spot_spare_vms : 0);
    double monthly = count * hourly * prices.hours_per_month;
    if (monthly < best.monthly) {
      best.monthly = monthly;
      std::string term = spot ? "spot" : (vm.reserved_1y ? "reserved-1y" : "on-demand");
      best.detail = absl::StrCat(count, "x ", type, " ", term);
      if (spot && options.spot_spare_vms > 0) {
        absl::StrAppend(&best.detail, " (", options.spot_spare_vms, " spare)");
      }
    }
  }
  return best;
}

double FunctionSeconds(double work_s, std::optional<double> latency_s, const PriceFile& prices,
                       const ServiceProfile& profile) {
  double vcpus = std::min(1.0, profile.function_memory_gb / prices.functions.gb_per_vcpu);
  double d = work_s / vcpus;
  if (latency_s) d = std::max(d, *latency_s);
  return std::max(d, prices.functions.min_billed_s);
}

}  // namespace

std::string_view PlacementName(Placement p) {
  switch (p) {
    case Placement::kDedicatedVm:
      return "dedicated-vm";
    case Placement::kSpotVm:
      return "spot-vm";
    case Placement::kServerless:
      return "serverless";
    case Placement::kPods:
      return "pods";
  }
  return "?";
}

absl::StatusOr<ServiceCost> PriceService(const ServiceLoad& load, const PriceFile& prices,
                                         const CostModelOptions& options) {
  auto it = prices.services.find(load.service);
  if (it == prices.services.end()) {
    return absl::NotFoundError(absl::StrCat("no placement profile for service '", load.service,
                                            "': add it under services: in the price file"));
  }
  const ServiceProfile& profile = it->second;
  ServiceCost out;
  out.service = load.service;
  out.mean_rps = load.mean_rps;
  out.peak_rps = load.peak_rps;
  out.active_fraction = load.active_fraction;
  if (profile.cpu_seconds_per_request) {
    out.work_s = *profile.cpu_seconds_per_request;
    out.work_source = "profile";
  } else if (load.cpu_seconds_per_request) {
    out.work_s = *load.cpu_seconds_per_request;
    out.work_source = "measured cpu";
  } else if (load.mean_latency_s) {
    out.work_s = *load.mean_latency_s;
    out.work_source = "latency";
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        load.service, ": no CPU time or latency per request measured (no requests in window?)"));
  }
  const double w = out.work_s;
  const double month_s = prices.hours_per_month * 3600.0;

  // Dedicated and spot machines, sized for the peak.
  const double peak_demand = load.peak_rps * w;
  VmChoice dedicated = CheapestVms(peak_demand, prices, profile, options, false);
  out.placements.push_back({Placement::kDedicatedVm, true, dedicated.monthly, dedicated.detail});
  VmChoice spot = CheapestVms(peak_demand, prices, profile, options, true);
  PlacementCost spot_cost{Placement::kSpotVm, std::isfinite(spot.monthly),
                          std::isfinite(spot.monthly) ? spot.monthly : 0,
                          std::isfinite(spot.monthly) ? spot.detail : "no spot price"};
  bool spot_eligible = spot_cost.available && profile.interruptible;
  if (spot_cost.available && !profile.interruptible) {
    absl::StrAppend(&spot_cost.detail, "; not interruptible, so never the cheapest");
  }
  out.placements.push_back(spot_cost);

  // Serverless functions.
  const double fn_s = FunctionSeconds(w, load.mean_latency_s, prices, profile);
  const double per_request = prices.functions.per_million_requests / 1e6 +
                             profile.function_memory_gb * fn_s * prices.functions.per_gb_second;
  PlacementCost serverless{Placement::kServerless, true, 0, ""};
  if (!profile.serverless_possible) {
    serverless.available = false;
    serverless.detail = "long-lived work: not a function";
  } else if (profile.function_memory_gb > prices.functions.max_memory_gb ||
             fn_s > prices.functions.max_duration_s) {
    serverless.available = false;
    serverless.detail = "over the function limits";
  } else {
    serverless.monthly = load.mean_rps * month_s * per_request;
    serverless.detail =
        absl::StrFormat("%.3g M calls x %.0f ms x %g GB", load.mean_rps * month_s / 1e6,
                        fn_s * 1000, profile.function_memory_gb);
  }
  out.placements.push_back(serverless);

  // Autoscaled pods, interval by interval.
  double pod_seconds = 0, hold_left = 0, max_pods = 0;
  int last = 0;
  for (const Interval& iv : load.intervals) {
    double dt = iv.end_s - iv.start_s;
    if (dt <= 0) continue;
    double demand = iv.requests / dt * w;
    int pods = iv.requests > 0 ? MachinesFor(demand, profile.pod_vcpu, options.target_utilisation,
                                             std::max(1, profile.min_pods))
                               : profile.min_pods;
    if (pods > 0 && iv.requests > 0) {
      pod_seconds += pods * dt;
      last = pods;
      hold_left = profile.scale_down_delay_s;
    } else {
      // No calls: min_pods stay; pods above that stay for what is left of the cooldown.
      double held = std::min(hold_left, dt);
      pod_seconds += profile.min_pods * dt + std::max(0, last - profile.min_pods) * held;
      hold_left -= held;
    }
    max_pods = std::max(max_pods, static_cast<double>(pods));
  }
  const double pod_hourly = profile.pod_vcpu * prices.pods.per_vcpu_hour +
                            profile.pod_memory_gb * prices.pods.per_gb_hour;
  const double pod_monthly =
      load.window_s > 0 ? pod_seconds / load.window_s * month_s / 3600.0 * pod_hourly : 0;
  out.placements.push_back({Placement::kPods, true, pod_monthly,
                            absl::StrFormat("%.2f pods on average, %g at most, %g vCPU/%g GB each",
                                            load.window_s > 0 ? pod_seconds / load.window_s : 0.0,
                                            max_pods, profile.pod_vcpu, profile.pod_memory_gb)});

  double best = std::numeric_limits<double>::infinity();
  for (const PlacementCost& p : out.placements) {
    if (p.placement == Placement::kSpotVm && !spot_eligible) continue;
    if (p.available && p.monthly < best) {
      best = p.monthly;
      out.cheapest = p.placement;
    }
  }

  // Break-even: first sustained rate where serverless costs what dedicated machines cost.
  auto vm_cost = [&](double rps) {
    return CheapestVms(rps * w, prices, profile, options, false).monthly;
  };
  // Rates per machine of each type: a type's step edges are n * its rate, from min_vms on.
  std::vector<double> vm_steps;
  for (const std::string& type : profile.vm_types) {
    vm_steps.push_back(Capacity(prices.vms.at(type), profile) * options.target_utilisation / w);
  }
  if (!serverless.available) {
    out.break_even_note = "serverless unavailable";
  } else {
    const double slope = month_s * per_request;  // Serverless cost per (request/s) per month.
    out.serverless_monthly_per_rps = slope;
    double vm_slope = std::numeric_limits<double>::infinity();  // Dedicated cost per (request/s).
    for (size_t t = 0; t < profile.vm_types.size(); ++t) {
      const VmPrice& vm = prices.vms.at(profile.vm_types[t]);
      vm_slope = std::min(
          vm_slope, vm.reserved_1y.value_or(vm.on_demand) * prices.hours_per_month / vm_steps[t]);
    }
    if (slope <= vm_slope) {
      // Dedicated machines cost at least vm_slope * rate at any rate: serverless always wins.
      out.break_even_note = "serverless is cheaper at any sustained rate";
    } else {
      // Find a rate where serverless is dearer, then walk the machines' steps up to it.
      double hi = 1e-3;
      for (int i = 0; i < 200 && slope * hi < vm_cost(hi); ++i) hi *= 2;
      std::vector<double> steps = {0, hi};
      for (double step : vm_steps) {
        for (int n = profile.min_vms; n * step < hi && steps.size() < 100000; ++n) {
          steps.push_back(n * step);
        }
      }
      std::sort(steps.begin(), steps.end());
      for (size_t k = 1; k < steps.size(); ++k) {
        double v = vm_cost(steps[k]);  // Constant on (steps[k-1], steps[k]].
        if (slope * steps[k] >= v) {
          out.break_even_rps = std::max(steps[k - 1], v / slope);
          break;
        }
      }
      if (out.break_even_rps) {
        out.break_even_note =
            absl::StrFormat("serverless is cheaper below %.3g req/s sustained (now %.3g req/s)",
                            *out.break_even_rps, load.mean_rps);
      }
    }
  }

  // The dedicated-VM curve over the chart's range, with its steps.
  const double x_max =
      std::max({2 * out.break_even_rps.value_or(0), 2 * load.mean_rps, 1.2 * load.peak_rps, 1e-3});
  std::vector<double> edges;
  bool exact = true;
  for (double step : vm_steps) {
    for (int n = profile.min_vms; n * step < x_max; ++n) {
      // Each edge is at most two points; past the cap the steps are too fine to draw.
      if (2 * edges.size() + 3 > static_cast<size_t>(kMaxCurvePoints)) {
        exact = false;
        break;
      }
      edges.push_back(n * step);
    }
  }
  std::vector<CurvePoint>& curve = out.dedicated_curve;
  if (exact) {
    edges.push_back(x_max);
    std::sort(edges.begin(), edges.end());
    double prev = 0, cur = vm_cost(0);
    curve.push_back({0, cur});
    for (double e : edges) {
      if (e <= prev) continue;
      double v = vm_cost((prev + e) / 2);  // The value on (prev, e].
      if (v != cur) {
        if (curve.back().rps != prev) curve.push_back({prev, cur});
        curve.push_back({prev, v});
        cur = v;
      }
      prev = e;
    }
    curve.push_back({x_max, cur});
  } else {
    std::vector<double> xs;
    for (int i = 0; i < kMaxCurvePoints - 1; ++i) xs.push_back(x_max * i / (kMaxCurvePoints - 2));
    if (out.break_even_rps) xs.push_back(*out.break_even_rps);
    std::sort(xs.begin(), xs.end());
    for (double x : xs) curve.push_back({x, vm_cost(x)});
  }
  return out;
}

}  // namespace stratus::cost
