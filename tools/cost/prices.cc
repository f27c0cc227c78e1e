#include "tools/cost/prices.h"

#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "yaml-cpp/yaml.h"

namespace stratus::cost {
namespace {

template <typename T>
absl::Status Get(const YAML::Node& node, const char* key, const std::string& where, T* out,
                 bool required) {
  const YAML::Node v = node[key];
  if (!v) {
    if (required) return absl::InvalidArgumentError(absl::StrCat(where, ".", key, " is missing"));
    return absl::OkStatus();
  }
  try {
    *out = v.as<T>();
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(where, ".", key, ": ", e.what()));
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status GetOpt(const YAML::Node& node, const char* key, const std::string& where,
                    std::optional<T>* out) {
  if (!node[key]) return absl::OkStatus();
  T v{};
  absl::Status s = Get(node, key, where, &v, true);
  if (s.ok()) *out = v;
  return s;
}

absl::Status ParseProfile(const YAML::Node& n, const std::string& where, ServiceProfile* p) {
  if (!n.IsMap()) return absl::InvalidArgumentError(absl::StrCat(where, " is not a map"));
  STRATUS_RETURN_IF_ERROR(Get(n, "vm_types", where, &p->vm_types, false));
  STRATUS_RETURN_IF_ERROR(Get(n, "uses_gpu", where, &p->uses_gpu, false));
  STRATUS_RETURN_IF_ERROR(Get(n, "min_vms", where, &p->min_vms, false));
  STRATUS_RETURN_IF_ERROR(Get(n, "interruptible", where, &p->interruptible, false));
  STRATUS_RETURN_IF_ERROR(Get(n, "function_memory_gb", where, &p->function_memory_gb, false));
  STRATUS_RETURN_IF_ERROR(Get(n, "serverless_possible", where, &p->serverless_possible, false));
  STRATUS_RETURN_IF_ERROR(Get(n, "pod_vcpu", where, &p->pod_vcpu, false));
  STRATUS_RETURN_IF_ERROR(Get(n, "pod_memory_gb", where, &p->pod_memory_gb, false));
  STRATUS_RETURN_IF_ERROR(Get(n, "min_pods", where, &p->min_pods, false));
  STRATUS_RETURN_IF_ERROR(Get(n, "scale_down_delay_s", where, &p->scale_down_delay_s, false));
  STRATUS_RETURN_IF_ERROR(GetOpt(n, "cpu_seconds_per_request", where, &p->cpu_seconds_per_request));
  if (p->vm_types.empty() || p->min_vms < 1 || p->function_memory_gb <= 0 || p->pod_vcpu <= 0 ||
      p->pod_memory_gb <= 0 || p->min_pods < 0 || p->scale_down_delay_s < 0) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": a value is out of range"));
  }
  return absl::OkStatus();
}

}  // namespace

std::map<std::string, ServiceProfile> DefaultProfiles() {
  std::map<std::string, ServiceProfile> p;
  // The detector: LibTorch on a whole machine, batching across callers; a GPU when there is one.
  ServiceProfile& detector = p["detector"];
  detector.vm_types = {"c7i.xlarge", "c7i.2xlarge", "c7i.4xlarge", "g4dn.xlarge", "g5.xlarge"};
  detector.uses_gpu = true;
  detector.function_memory_gb = 3;
  detector.pod_vcpu = 2;
  detector.pod_memory_gb = 4;
  detector.min_pods = 1;  // Models take seconds to load: the detector never scales to zero.
  // Live video: a reclaimed detector drops every stream's frames until a new one has loaded.
  detector.interruptible = false;
  // Ingest holds video streams for hours: no function can, and one replica stays up.
  ServiceProfile& ingest = p["ingest"];
  ingest.serverless_possible = false;
  ingest.pod_vcpu = 1;
  ingest.pod_memory_gb = 1;
  ingest.min_pods = 1;
  ServiceProfile& recognition = p["recognition"];
  recognition.function_memory_gb = 2;  // The FAISS index of a collection sits in memory.
  recognition.pod_memory_gb = 2;
  ServiceProfile& mask = p["mask"];
  mask.function_memory_gb = 1;
  ServiceProfile& sentiment = p["sentiment"];
  sentiment.function_memory_gb = 0.5;
  sentiment.pod_vcpu = 0.25;
  sentiment.pod_memory_gb = 0.5;
  return p;
}

absl::StatusOr<PriceFile> ParsePriceFile(std::string_view yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("price file: ", e.what()));
  }
  if (!root.IsMap()) return absl::InvalidArgumentError("price file is not a YAML map");
  PriceFile f;
  STRATUS_RETURN_IF_ERROR(Get(root, "provider", "price file", &f.provider, true));
  STRATUS_RETURN_IF_ERROR(Get(root, "region", "price file", &f.region, false));
  STRATUS_RETURN_IF_ERROR(Get(root, "as_of", "price file", &f.as_of, true));
  STRATUS_RETURN_IF_ERROR(Get(root, "currency", "price file", &f.currency, false));
  STRATUS_RETURN_IF_ERROR(Get(root, "hours_per_month", "price file", &f.hours_per_month, false));
  if (f.hours_per_month <= 0) return absl::InvalidArgumentError("hours_per_month must be > 0");

  const YAML::Node vms = root["vm"];
  if (!vms || !vms.IsMap() || vms.size() == 0) {
    return absl::InvalidArgumentError("price file: vm must map instance types to prices");
  }
  for (const auto& kv : vms) {
    VmPrice v;
    v.type = kv.first.as<std::string>();
    std::string where = "vm." + v.type;
    const YAML::Node& n = kv.second;
    STRATUS_RETURN_IF_ERROR(Get(n, "vcpu", where, &v.vcpu, true));
    STRATUS_RETURN_IF_ERROR(Get(n, "memory_gib", where, &v.memory_gib, false));
    STRATUS_RETURN_IF_ERROR(Get(n, "gpus", where, &v.gpus, false));
    STRATUS_RETURN_IF_ERROR(Get(n, "gpu_vcpu_equivalent", where, &v.gpu_vcpu_equivalent, v.gpus > 0));
    STRATUS_RETURN_IF_ERROR(Get(n, "on_demand", where, &v.on_demand, true));
    STRATUS_RETURN_IF_ERROR(GetOpt(n, "reserved_1y", where, &v.reserved_1y));
    STRATUS_RETURN_IF_ERROR(GetOpt(n, "spot", where, &v.spot));
    if (v.vcpu <= 0 || v.on_demand <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": vcpu and on_demand must be > 0"));
    }
    f.vms[v.type] = v;
  }

  const YAML::Node fn = root["functions"];
  if (!fn) return absl::InvalidArgumentError("price file: functions is missing");
  STRATUS_RETURN_IF_ERROR(Get(fn, "per_gb_second", "functions", &f.functions.per_gb_second, true));
  STRATUS_RETURN_IF_ERROR(
      Get(fn, "per_million_requests", "functions", &f.functions.per_million_requests, true));
  STRATUS_RETURN_IF_ERROR(Get(fn, "gb_per_vcpu", "functions", &f.functions.gb_per_vcpu, false));
  STRATUS_RETURN_IF_ERROR(Get(fn, "min_billed_s", "functions", &f.functions.min_billed_s, false));
  STRATUS_RETURN_IF_ERROR(Get(fn, "max_memory_gb", "functions", &f.functions.max_memory_gb, false));
  STRATUS_RETURN_IF_ERROR(Get(fn, "max_duration_s", "functions", &f.functions.max_duration_s, false));

  const YAML::Node pods = root["pods"];
  if (!pods) return absl::InvalidArgumentError("price file: pods is missing");
  STRATUS_RETURN_IF_ERROR(Get(pods, "per_vcpu_hour", "pods", &f.pods.per_vcpu_hour, true));
  STRATUS_RETURN_IF_ERROR(Get(pods, "per_gb_hour", "pods", &f.pods.per_gb_hour, true));

  // Built-in profiles keep the VM types this file prices (all of them when it prices none of
  // theirs); a profile the file sets must name priced types only.
  f.services = DefaultProfiles();
  for (auto& [name, profile] : f.services) {
    std::vector<std::string> priced;
    for (const std::string& t : profile.vm_types) {
      if (f.vms.count(t)) priced.push_back(t);
    }
    if (priced.empty()) {
      for (const auto& [t, vm] : f.vms) priced.push_back(t);
    }
    profile.vm_types = priced;
  }
  if (const YAML::Node services = root["services"]) {
    if (!services.IsMap()) return absl::InvalidArgumentError("price file: services is not a map");
    for (const auto& kv : services) {
      std::string name = kv.first.as<std::string>();
      ServiceProfile& profile = f.services[name];
      STRATUS_RETURN_IF_ERROR(ParseProfile(kv.second, "services." + name, &profile));
      for (const std::string& t : profile.vm_types) {
        if (!f.vms.count(t)) {
          return absl::InvalidArgumentError(
              absl::StrCat("services.", name, " names VM type ", t, " that vm does not price"));
        }
      }
    }
  }
  return f;
}

absl::StatusOr<PriceFile> LoadPriceFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read price file ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  absl::StatusOr<PriceFile> f = ParsePriceFile(ss.str());
  if (!f.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", f.status().message()));
  return f;
}

}  // namespace stratus::cost
