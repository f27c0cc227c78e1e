#include "tools/cost/load.h"

#include <algorithm>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"

namespace stratus::cost {
namespace {

constexpr absl::string_view kRequests = "stratus_rpc_requests_total";
constexpr absl::string_view kDurationSum = "stratus_rpc_duration_seconds_sum";
constexpr absl::string_view kDurationCount = "stratus_rpc_duration_seconds_count";
constexpr absl::string_view kCpu = "process_cpu_seconds_total";

// Calls every service answers for its plumbing, not its users: gRPC health checks (probes, load
// balancers) and server reflection. Counting them would show load where there is none.
bool IsPlumbing(const Series& s) {
  auto it = s.labels.find("method");
  if (it == s.labels.end()) return false;
  return it->second == "Check" || it->second == "Watch" || it->second == "ServerReflectionInfo";
}

// Value of a counter at time t by the sample at or before t (counters are step functions
// between scrapes); nullopt before the first sample.
std::optional<double> ValueAt(const std::vector<Sample>& s, double t) {
  auto it = std::upper_bound(s.begin(), s.end(), t,
                             [](double v, const Sample& x) { return v < x.time_s; });
  if (it == s.begin()) return std::nullopt;
  return std::prev(it)->value;
}

// Increase of a counter between a and b, counting resets inside; 0 where not covered.
double IncreaseBetween(const std::vector<Sample>& s, double a, double b) {
  std::vector<Sample> part;
  std::optional<double> va = ValueAt(s, a);
  if (!va) return 0;
  part.push_back({a, *va});
  for (const Sample& x : s) {
    if (x.time_s > a && x.time_s <= b) part.push_back(x);
  }
  return CounterIncrease(part);
}

}  // namespace

std::string NormaliseServiceName(absl::string_view name) {
  std::string s = absl::AsciiStrToLower(name);
  absl::string_view v = s;
  if (size_t dot = v.rfind('.'); dot != absl::string_view::npos) v.remove_prefix(dot + 1);
  absl::ConsumePrefix(&v, "stratus-");
  absl::ConsumePrefix(&v, "stratus_");
  if (!absl::ConsumeSuffix(&v, "-service")) absl::ConsumeSuffix(&v, "service");
  return std::string(v);
}

std::string ServiceOfSeries(const Series& series, absl::string_view assigned) {
  if (!assigned.empty()) return NormaliseServiceName(assigned);
  if (auto it = series.labels.find("job"); it != series.labels.end()) {
    return NormaliseServiceName(it->second);
  }
  if (auto it = series.labels.find("service"); it != series.labels.end()) {
    return NormaliseServiceName(it->second);
  }
  return "";
}

absl::StatusOr<std::map<std::string, ServiceLoad>> ExtractLoads(const std::vector<Series>& series,
                                                                absl::string_view assigned) {
  struct Group {
    std::vector<const Series*> requests, dur_sum, dur_count, cpu;
  };
  std::map<std::string, Group> groups;
  for (const Series& s : series) {
    std::string service = ServiceOfSeries(s, assigned);
    if (service.empty() || IsPlumbing(s)) continue;
    Group& g = groups[service];
    if (s.name == kRequests) g.requests.push_back(&s);
    if (s.name == kDurationSum) g.dur_sum.push_back(&s);
    if (s.name == kDurationCount) g.dur_count.push_back(&s);
    if (s.name == kCpu) g.cpu.push_back(&s);
  }
  std::map<std::string, ServiceLoad> loads;
  for (const auto& [service, g] : groups) {
    std::set<double> times;
    for (const Series* s : g.requests) {
      for (const Sample& x : s->samples) times.insert(x.time_s);
    }
    if (times.size() < 2) continue;
    ServiceLoad load;
    load.service = service;
    std::vector<double> t(times.begin(), times.end());
    double busy = 0, cpu_total = 0;
    bool has_cpu = !g.cpu.empty();
    for (size_t i = 1; i < t.size(); ++i) {
      Interval iv{t[i - 1], t[i], 0, 0};
      for (const Series* s : g.requests) iv.requests += IncreaseBetween(s->samples, t[i - 1], t[i]);
      for (const Series* s : g.cpu) iv.cpu_seconds += IncreaseBetween(s->samples, t[i - 1], t[i]);
      double dt = iv.end_s - iv.start_s;
      load.requests += iv.requests;
      cpu_total += iv.cpu_seconds;
      load.peak_rps = std::max(load.peak_rps, iv.requests / dt);
      if (iv.requests > 0) busy += dt;
      load.intervals.push_back(iv);
    }
    load.window_s = t.back() - t.front();
    load.mean_rps = load.requests / load.window_s;
    load.active_fraction = busy / load.window_s;
    if (has_cpu && load.requests > 0) load.cpu_seconds_per_request = cpu_total / load.requests;
    double dsum = 0, dcount = 0;
    for (const Series* s : g.dur_sum) dsum += CounterIncrease(s->samples);
    for (const Series* s : g.dur_count) dcount += CounterIncrease(s->samples);
    if (dcount > 0) load.mean_latency_s = dsum / dcount;
    loads[service] = std::move(load);
  }
  if (loads.empty()) {
    return absl::InvalidArgumentError(
        "no service load found: need at least two scrapes of stratus_rpc_requests_total "
        "attributable to a service (by file, `job` or `service` label)");
  }
  return loads;
}

}  // namespace stratus::cost
