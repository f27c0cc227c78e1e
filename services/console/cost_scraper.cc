#include "services/console/cost_scraper.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/http_client.h"
#include "tools/cost/cost_command.h"

namespace stratus::console {
namespace fs = std::filesystem;

namespace {

// The sample lines the cost model reads, each stamped with `ms`.
std::string KeepCostLines(const std::string& exposition, int64_t ms) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(exposition, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    if (!absl::StartsWith(line, "stratus_rpc_requests_total") &&
        !absl::StartsWith(line, "stratus_rpc_duration_seconds_sum") &&
        !absl::StartsWith(line, "stratus_rpc_duration_seconds_count") &&
        !absl::StartsWith(line, "process_cpu_seconds_total")) {
      continue;
    }
    absl::StrAppend(&out, line, " ", ms, "\n");
  }
  return out;
}

}  // namespace

CostScraper::CostScraper(Options options) : options_(std::move(options)) {}

CostScraper::~CostScraper() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CostScraper::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void CostScraper::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    ScrapeOnce();
    lock.lock();
    cv_.wait_for(lock, options_.interval, [&] { return stop_; });
  }
}

void CostScraper::ScrapeOnce() {
  for (const Target& t : options_.targets) {
    auto r = HttpFetch("GET", t.url, {}, "", std::chrono::seconds(5));
    if (!r.ok() || r->status != 200) continue;  // a service down has no load to price
    const auto now = std::chrono::system_clock::now();
    const int64_t ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    std::string lines = KeepCostLines(r->body, ms);
    std::lock_guard<std::mutex> lock(mu_);
    auto& q = scrapes_[t.service];
    q.emplace_back(now, std::move(lines));
    while (!q.empty() && now - q.front().first > options_.window) q.pop_front();
  }
}

absl::StatusOr<std::string> CostScraper::ReportJson() {
  std::map<std::string, std::string> recordings;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [service, q] : scrapes_) {
      if (q.size() < 2) continue;
      std::string& text = recordings[service];
      for (const auto& [at, lines] : q) text += lines;
    }
  }
  if (recordings.empty()) {
    return absl::UnavailableError(
        absl::StrCat("no load measured yet: the console scrapes /metrics every ",
                     options_.interval.count() / 1000, " s and needs two scrapes"));
  }
  // The cost command reads recordings from files: a private folder, removed afterwards.
  std::string tmpl = (fs::temp_directory_path() / "stratus-console-cost-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    return absl::InternalError("cannot create a temporary folder for the cost report");
  }
  const fs::path dir(tmpl);
  std::vector<std::string> args = {"--json"};
  if (!options_.prices_file.empty()) args.insert(args.end(), {"--prices", options_.prices_file});
  for (const auto& [service, text] : recordings) {
    const fs::path file = dir / (service + ".prom");
    std::ofstream(file) << text;
    args.insert(args.end(), {"--metrics", absl::StrCat(service, "=", file.string())});
  }
  std::ostringstream out, err;
  const int rc = cost::RunCost(args, out, err);
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (rc != 0) return absl::InternalError(absl::StrCat("cost: ", err.str()));
  return out.str();
}

}  // namespace stratus::console
