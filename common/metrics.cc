#include "common/metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace stratus::metrics {
namespace {

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string EscapeHelp(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// `{a="x",b="y"}` with an optional extra label (for histogram buckets); empty when no labels.
std::string LabelText(const Labels& labels, const std::string& extra_key = "",
                      const std::string& extra_value = "") {
  if (labels.empty() && extra_key.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ",";
    first = false;
    out += k + "=\"" + EscapeLabelValue(v) + "\"";
  }
  if (!extra_key.empty()) {
    if (!first) out += ",";
    out += extra_key + "=\"" + extra_value + "\"";
  }
  return out + "}";
}

void Header(std::string& out, const std::string& name, const std::string& help,
            const char* type) {
  out += "# HELP " + name + " " + EscapeHelp(help) + "\n";
  out += "# TYPE " + name + " " + type + "\n";
}

}  // namespace

void Counter::Increment(double v) {
  if (v < 0) return;
  value_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Histogram(BucketBoundaries bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  std::lock_guard<std::mutex> lock(mu_);
  counts_[i]++;
  sum_ += v;
}

Histogram::BucketBoundaries Histogram::LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

Histogram::BucketBoundaries Histogram::BatchBuckets() { return {1, 2, 4, 8, 16, 32, 64}; }

Histogram::Snapshot Histogram::Collect() const {
  Snapshot s;
  s.bounds = bounds_;
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t running = 0;
  for (uint64_t c : counts_) {
    running += c;
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum = sum_;
  return s;
}

template <>
void Family<Counter>::Serialize(std::string& out) const {
  Header(out, name_, help_, "counter");
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [labels, m] : metrics_) {
    out += name_ + LabelText(labels) + " " + FormatValue(m->Value()) + "\n";
  }
}

template <>
void Family<Gauge>::Serialize(std::string& out) const {
  Header(out, name_, help_, "gauge");
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [labels, m] : metrics_) {
    out += name_ + LabelText(labels) + " " + FormatValue(m->Value()) + "\n";
  }
}

template <>
void Family<Histogram>::Serialize(std::string& out) const {
  Header(out, name_, help_, "histogram");
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [labels, m] : metrics_) {
    auto s = m->Collect();
    for (size_t i = 0; i < s.bounds.size(); ++i) {
      out += name_ + "_bucket" + LabelText(labels, "le", FormatValue(s.bounds[i])) + " " +
             std::to_string(s.cumulative[i]) + "\n";
    }
    out += name_ + "_bucket" + LabelText(labels, "le", "+Inf") + " " +
           std::to_string(s.cumulative.back()) + "\n";
    out += name_ + "_sum" + LabelText(labels) + " " + FormatValue(s.sum) + "\n";
    out += name_ + "_count" + LabelText(labels) + " " + std::to_string(s.count) + "\n";
  }
}

void Registry::AddCollectHook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(mu_);
  hooks_.push_back(std::move(hook));
}

std::string Registry::Serialize() const {
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    hooks = hooks_;
  }
  for (auto& h : hooks) h();
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& f : families_) f->Serialize(out);
  return out;
}

void RegisterProcessMetrics(Registry& registry) {
  auto& cpu = BuildCounter()
                  .Name("process_cpu_seconds_total")
                  .Help("Total user and system CPU time spent in seconds.")
                  .Register(registry)
                  .Add({});
  auto& rss = BuildGauge()
                  .Name("process_resident_memory_bytes")
                  .Help("Resident memory size in bytes.")
                  .Register(registry)
                  .Add({});
  auto& fds = BuildGauge()
                  .Name("process_open_fds")
                  .Help("Number of open file descriptors.")
                  .Register(registry)
                  .Add({});
  auto& start = BuildGauge()
                    .Name("process_start_time_seconds")
                    .Help("Start time of the process since unix epoch in seconds.")
                    .Register(registry)
                    .Add({});
  start.Set(static_cast<double>(std::time(nullptr)));
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  registry.AddCollectHook([&cpu, &rss, &fds, ticks, page] {
    std::ifstream stat("/proc/self/stat");
    std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    // Fields after the command name (which may hold spaces) start after the last ')'.
    auto close = content.rfind(')');
    if (close != std::string::npos) {
      std::istringstream in(content.substr(close + 2));
      std::string field;
      std::vector<std::string> f;
      while (in >> field) f.push_back(field);
      // utime is field 14, stime 15, rss 24 (1-based over the whole line; here offset by 2).
      if (f.size() > 21) {
        double total = (std::stod(f[11]) + std::stod(f[12])) / ticks;
        double delta = total - cpu.Value();
        if (delta > 0) cpu.Increment(delta);
        rss.Set(std::stod(f[21]) * page);
      }
    }
    int n = 0;
    if (DIR* d = opendir("/proc/self/fd")) {
      while (readdir(d) != nullptr) ++n;
      closedir(d);
      n -= 2;
    }
    fds.Set(n);
  });
}

}  // namespace stratus::metrics
