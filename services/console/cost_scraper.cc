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
#include "nlohmann/json.hpp"
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
  // The cost command reads recordings from files: a private folder, removed afterwards. It runs
  // once per service, so that a service it cannot price yet (e.g. only health checks so far)
  // is listed as skipped rather than failing the whole report.
  std::string tmpl = (fs::temp_directory_path() / "stratus-console-cost-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    return absl::InternalError("cannot create a temporary folder for the cost report");
  }
  const fs::path dir(tmpl);
  nlohmann::json report;
  nlohmann::json skipped = nlohmann::json::array();
  for (const auto& [service, text] : recordings) {
    const fs::path file = dir / (service + ".prom");
    std::ofstream(file) << text;
    std::vector<std::string> args = {"--json", "--metrics",
                                     absl::StrCat(service, "=", file.string())};
    if (!options_.prices_file.empty()) args.insert(args.end(), {"--prices", options_.prices_file});
    std::ostringstream out, err;
    nlohmann::json one;
    if (cost::RunCost(args, out, err) == 0) one = nlohmann::json::parse(out.str(), nullptr, false);
    if (!one.is_object() || !one.contains("services")) {
      std::string why = err.str();
      while (!why.empty() && why.back() == '\n') why.pop_back();
      skipped.push_back({{"service", service}, {"reason", why}});
      continue;
    }
    if (report.is_null()) {
      report = one;
    } else {
      for (auto& s : one["services"]) report["services"].push_back(s);
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (report.is_null()) {
    return absl::UnavailableError(absl::StrCat(
        "no service has a load to price yet (", skipped.size(), " scraped: ",
        skipped.empty() ? std::string("none") : skipped[0]["reason"].get<std::string>(), ")"));
  }
  report["skipped"] = skipped;
  return report.dump(2);
}

}  // namespace stratus::console
