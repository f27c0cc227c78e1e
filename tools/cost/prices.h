// A price file (YAML) and the placement profile of each service. The shipped default is
// deploy/prices/aws-2026.yaml (public AWS list prices, us-east-1); its comments name each field.
//
//   provider: aws
//   region: us-east-1
//   as_of: "2026-11"
//   currency: USD
//   hours_per_month: 730
//   vm:                          # per instance-hour
//     c7i.large: {vcpu: 2, memory_gib: 4, on_demand: 0.08925, reserved_1y: 0.0562, spot: 0.0346}
//     g5.xlarge: {vcpu: 4, memory_gib: 16, gpus: 1, gpu_vcpu_equivalent: 40, on_demand: 1.006, ...}
//   functions: {per_gb_second: 0.0000166667, per_million_requests: 0.20, gb_per_vcpu: 1.769}
//   pods:      {per_vcpu_hour: 0.04048, per_gb_hour: 0.004445}
//   services:                    # optional: overrides of DefaultProfiles()
//     detector: {vm_types: [c7i.2xlarge, g5.xlarge], uses_gpu: true, function_memory_gb: 3}
#ifndef STRATUS_TOOLS_COST_PRICES_H_
#define STRATUS_TOOLS_COST_PRICES_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace stratus::cost {

struct VmPrice {
  std::string type;
  double vcpu = 0;
  double memory_gib = 0;
  int gpus = 0;
  // Inference throughput of one GPU in vCPUs of the same instance family, for services that use
  // GPUs (an assumption stated in the price file: the detector batches on the GPU).
  double gpu_vcpu_equivalent = 0;
  double on_demand = 0;               // per hour
  std::optional<double> reserved_1y;  // per hour, 1-year no-upfront reservation
  std::optional<double> spot;         // per hour, a typical recent spot price
};

struct FunctionPrice {  // FaaS (AWS Lambda, x86)
  double per_gb_second = 0;
  double per_million_requests = 0;
  double gb_per_vcpu = 1.769;  // Lambda gives one vCPU per 1,769 MB.
  double min_billed_s = 0.001;
  double max_memory_gb = 10.24;
  double max_duration_s = 900;
};

struct PodPrice {  // Serverless pods (EKS on Fargate), billed per provisioned vCPU and GB.
  double per_vcpu_hour = 0;
  double per_gb_hour = 0;
};

// How a service can be placed. Defaults are Stratus' own services (DefaultProfiles()).
struct ServiceProfile {
  std::vector<std::string> vm_types = {"c7i.large", "c7i.xlarge", "c7i.2xlarge"};
  bool uses_gpu = false;  // The service runs faster on the VM's GPUs when present.
  int min_vms = 1;        // Dedicated placements keep at least this many machines.
  // Whether the service may run on machines reclaimed at two minutes' notice. Spot is still
  // priced when false, but never named the cheapest.
  bool interruptible = true;
  double function_memory_gb = 1;    // Memory size of one function instance.
  bool serverless_possible = true;  // False for long-lived work (video streams outlive 15 min).
  double pod_vcpu = 0.5;
  double pod_memory_gb = 1;
  int min_pods = 0;                 // 0: scale to zero (KEDA).
  double scale_down_delay_s = 300;  // Pods stay this long after the last call (KEDA cooldown).
  std::optional<double> cpu_seconds_per_request;  // Overrides the measured value.
};

struct PriceFile {
  std::string provider, region, as_of, currency = "USD";
  double hours_per_month = 730;
  std::map<std::string, VmPrice> vms;
  FunctionPrice functions;
  PodPrice pods;
  std::map<std::string, ServiceProfile> services;  // DefaultProfiles() with the file's overrides.
};

// Profiles of ingest, detector, recognition, mask and sentiment.
std::map<std::string, ServiceProfile> DefaultProfiles();

// Parses a price file. Errors: InvalidArgument naming the field that is missing or wrong, e.g.
// a service naming a VM type the file does not price.
absl::StatusOr<PriceFile> ParsePriceFile(std::string_view yaml);
absl::StatusOr<PriceFile> LoadPriceFile(const std::string& path);

}  // namespace stratus::cost

#endif  // STRATUS_TOOLS_COST_PRICES_H_
