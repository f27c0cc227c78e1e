// What `stratus cost` needs, gathered by the console from the live services: it scrapes each
// service's /metrics every interval, keeps the samples cost cares about (RPC counts and
// durations, CPU seconds) with their times for the last `window`, and runs the cost command
// (tools/cost) over them on demand, so the console's Cost page and the CLI agree.
//
// Thread-safe. The scrape thread stops in the destructor.
#ifndef STRATUS_SERVICES_CONSOLE_COST_SCRAPER_H_
#define STRATUS_SERVICES_CONSOLE_COST_SCRAPER_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace stratus::console {

class CostScraper {
 public:
  struct Target {
    std::string service;  // "detector"
    std::string url;      // http://127.0.0.1:8082/metrics
  };
  struct Options {
    std::vector<Target> targets;
    std::chrono::milliseconds interval{30000};
    std::chrono::minutes window{60};
    std::string prices_file;  // "" = the cost command's default
  };
  explicit CostScraper(Options options);
  ~CostScraper();

  // Starts scraping (the first scrape at once).
  void Start();
  // Scrapes every target once now (the scrape thread calls this).
  void ScrapeOnce();
  // The JSON of `stratus cost --json` over what was scraped, plus "skipped": [{service, reason}]
  // for services it cannot price yet (e.g. no RPC but health checks so far); UNAVAILABLE, saying
  // why, until some service has two scrapes with a load.
  absl::StatusOr<std::string> ReportJson();

 private:
  void Loop();

  const Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  // Per service: scrapes as timestamped exposition lines, oldest first.
  std::map<std::string, std::deque<std::pair<std::chrono::system_clock::time_point, std::string>>>
      scrapes_;
  std::thread thread_;
};

}  // namespace stratus::console

#endif  // STRATUS_SERVICES_CONSOLE_COST_SCRAPER_H_
