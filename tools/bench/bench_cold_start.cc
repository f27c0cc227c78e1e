// stratus-bench-cold-start: how long each service takes from exec to SERVING (the
// stateless services scale down to zero, so their cold start is the wait of the first request).
//
//   stratus-bench-cold-start [--bin-dir DIR] [--model-dir DIR] [--runs N] [--service NAME]...
//
// Starts an embedded PostgreSQL (the services that need one get its URL) and a static API keys
// file, then for every service and run: spawns `<bin-dir>/stratus-<service>` on free ports,
// polls grpc.health.v1 readiness every 2 ms and records the wall time from spawn to SERVING,
// and the CPU time the process used by then (/proc/<pid>/stat); then stops it. Prints one row
// per service: median and worst wall time, median CPU time. The page cache is warm after the
// first run (the first run is reported apart: a cold disk reads the binary and the models).
// A service that does not reach SERVING in --timeout-s is reported with its log's tail.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/auth/key_store.h"
#include "common/embedded_postgres.h"
#include "common/flags.h"
#include "common/health_client.h"
#include "common/paths.h"
#include "common/subprocess.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// User + system CPU seconds of `pid` so far (fields 14 and 15 of /proc/<pid>/stat).
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return 0;
  std::vector<std::string> f = absl::StrSplit(stat.substr(close + 2), ' ');
  if (f.size() < 13) return 0;
  return (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string Tail(const std::string& path, size_t bytes) {
  std::ifstream in(path);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

struct Sample {
  double wall_ms = 0;
  double cpu_ms = 0;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string bin_dir = fs::path(fs::read_symlink("/proc/self/exe")).parent_path().string();
  std::string model_dir = stratus::DefaultModelDir();
  int runs = 5;
  int timeout_s = 60;
  std::vector<std::string> services;
  stratus::FlagSet flags("stratus-bench-cold-start",
                         "Wall and CPU time from exec to SERVING for each service.");
  flags.String("bin-dir", "", &bin_dir, "where the stratus-<service> binaries are");
  flags.String("model-dir", "STRATUS_MODEL_DIR", &model_dir, "the model repository");
  flags.Int("runs", "", &runs, "starts per service (the first is reported apart)");
  flags.Int("timeout-s", "", &timeout_s, "give up on a start after this long");
  flags.StringList("service", "", &services,
                   "only these services (default: sentiment, mask, recognition, ingest, console, "
                   "detector)");
  if (auto s = flags.Parse(argc, argv); !s.ok() || flags.help_requested()) {
    std::cerr << (s.ok() ? "" : std::string(s.message()) + "\n") << flags.Usage();
    return s.ok() ? 0 : 2;
  }
  if (runs < 2) {
    std::cerr << "--runs must be at least 2\n";
    return 2;
  }
  if (services.empty()) {
    services = {"sentiment", "mask", "recognition", "ingest", "console", "detector"};
  }

  char tmpl[] = "/tmp/stratus-cold-start.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string dir = tmpl;
  auto pg = stratus::EmbeddedPostgres::Start({.data_dir = dir + "/pg"});
  if (!pg.ok()) {
    std::cerr << "PostgreSQL: " << pg.status() << "\n";
    return 1;
  }
  auto key = stratus::auth::GenerateKey();
  auto line = key.ok() ? stratus::auth::KeysFileLine(key->key, {{"*", stratus::auth::Level::kAdmin}})
                       : key.status();
  if (!line.ok()) {
    std::cerr << "API key: " << line.status() << "\n";
    return 1;
  }
  std::ofstream(dir + "/api-keys") << *line << "\n";

  std::cout << absl::StrFormat("%-12s %10s %12s %12s %12s\n", "service", "first_ms",
                               "median_ms", "worst_ms", "cpu_ms");
  int failures = 0;
  for (const std::string& name : services) {
    std::vector<Sample> samples;
    for (int run = 0; run < runs; ++run) {
      auto grpc_port = stratus::PickFreePort();
      auto http_port = stratus::PickFreePort();
      if (!grpc_port.ok() || !http_port.ok()) return 1;
      const std::string log = absl::StrCat(dir, "/", name, ".log");
      const std::string addr = absl::StrCat("127.0.0.1:", *grpc_port);
      const auto t0 = Clock::now();
      auto p = stratus::Subprocess::Spawn(
          {.argv = {bin_dir + "/stratus-" + name},
           .env = {{"STRATUS_GRPC_PORT", std::to_string(*grpc_port)},
                   {"STRATUS_HTTP_PORT", std::to_string(*http_port)},
                   {"STRATUS_LISTEN", "127.0.0.1"},
                   {"STRATUS_DATABASE_URL", (*pg)->url()},
                   {"STRATUS_API_KEYS_FILE", dir + "/api-keys"},
                   {"STRATUS_API_KEY", key->key},
                   {"STRATUS_MODEL_DIR", model_dir},
                   {"STRATUS_SPOOL_DIR", dir + "/spool"},
                   {"OMP_WAIT_POLICY", "PASSIVE"}},
           .log_file = log});
      if (!p.ok()) {
        std::cerr << name << ": " << p.status() << "\n";
        return 1;
      }
      bool serving = false;
      Sample sample;
      while (Clock::now() - t0 < std::chrono::seconds(timeout_s) && (*p)->Running()) {
        auto h = stratus::CheckHealth(addr, "", std::chrono::milliseconds(200));
        if (h.ok() && *h == stratus::ServingStatus::kServing) {
          sample.wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
          sample.cpu_ms = 1000 * CpuSeconds((*p)->pid());
          serving = true;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      (*p)->Stop(std::chrono::seconds(10));
      if (!serving) {
        std::cerr << name << ": not SERVING after " << timeout_s << " s (exit "
                  << (*p)->exit_code().value_or(-1) << "); log tail:\n"
                  << Tail(log, 2000) << "\n";
        ++failures;
        break;
      }
      samples.push_back(sample);
    }
    if (static_cast<int>(samples.size()) != runs) continue;
    std::vector<double> wall, cpu;
    for (size_t i = 1; i < samples.size(); ++i) {
      wall.push_back(samples[i].wall_ms);
      cpu.push_back(samples[i].cpu_ms);
    }
    std::cout << absl::StrFormat("%-12s %10.0f %12.0f %12.0f %12.0f\n", name, samples[0].wall_ms,
                                 Median(wall), *std::max_element(wall.begin(), wall.end()),
                                 Median(cpu))
              << std::flush;
  }
  pg->reset();
  std::error_code ec;
  fs::remove_all(dir, ec);
  return failures == 0 ? 0 : 1;
}
