#include "common/metrics.h"

#include <dirent.h>
#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <iterator>
#include <sstream>

#include "common/version.h"

namespace stratus::metrics {

Histogram::BucketBoundaries LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

Histogram::BucketBoundaries BatchBuckets() { return {1, 2, 4, 8, 16, 32, 64}; }

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
  return prometheus::TextSerializer().Serialize(Collect());
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

void RegisterBuildInfo(Registry& registry, std::string_view prefix) {
  BuildGauge()
      .Name(std::string(prefix) + "_build_info")
      .Help("A constant 1, labelled with the version and source revision of this build.")
      .Register(registry)
      .Add({{"version", std::string(Version())}, {"revision", std::string(Revision())}})
      .Set(1);
}

}  // namespace stratus::metrics
