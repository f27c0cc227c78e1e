// The console's cost report from scraped /metrics: real HTTP scrapes of a server whose counters
// grow, priced by the cost command; services without RPCs are left out, not fatal.
#include "services/console/cost_scraper.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "common/http_server.h"
#include "nlohmann/json.hpp"

namespace stratus::console {
namespace {

using ::testing::HasSubstr;

TEST(CostScraperTest, PricesServicesWithRpcsAndWaitsForTwoScrapes) {
  HttpServer::Options o;
  o.address = "127.0.0.1";
  auto http = HttpServer::Create(o);
  ASSERT_TRUE(http.ok());
  std::atomic<int> scrapes{0};
  (*http)->Handle("/busy/metrics", [&](const HttpRequest&) {
    const int n = ++scrapes;
    return HttpResponse::Text(
        200, absl::StrCat(
                 "# TYPE stratus_rpc_requests_total counter\n"
                 "stratus_rpc_requests_total{service=\"detector\",method=\"Detect\",code=\"ok\"} ",
                 n * 600,
                 "\n"
                 "stratus_rpc_duration_seconds_sum{service=\"detector\",method=\"Detect\"} ",
                 n * 30,
                 "\n"
                 "stratus_rpc_duration_seconds_count{service=\"detector\",method=\"Detect\"} ",
                 n * 600, "\nprocess_cpu_seconds_total ", n * 20, "\nother_metric 1\n"));
  });
  (*http)->Handle("/idle/metrics", [](const HttpRequest&) {
    return HttpResponse::Text(200, "process_cpu_seconds_total 1\n");
  });
  ASSERT_TRUE((*http)->Start().ok());
  const std::string base = absl::StrCat("http://127.0.0.1:", (*http)->port());
  CostScraper cost({.targets = {{"detector", base + "/busy/metrics"},
                                {"mask", base + "/idle/metrics"},
                                {"sentiment", "http://127.0.0.1:1/metrics"}}});
  cost.ScrapeOnce();
  absl::StatusOr<std::string> early = cost.ReportJson();
  EXPECT_EQ(early.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(early.status().message()), HasSubstr("two scrapes"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // samples a second apart
  cost.ScrapeOnce();
  absl::StatusOr<std::string> report = cost.ReportJson();
  ASSERT_TRUE(report.ok()) << report.status();
  nlohmann::json j = nlohmann::json::parse(*report);
  ASSERT_TRUE(j.contains("services")) << *report;
  ASSERT_EQ(j["services"].size(), 1u) << *report;
  EXPECT_EQ(j["services"][0]["service"], "detector");
  EXPECT_GT(j["services"][0]["mean_rps"].get<double>(), 0);
  ASSERT_EQ(j["skipped"].size(), 1u) << *report;  // mask: scraped, but nothing to price
  EXPECT_EQ(j["skipped"][0]["service"], "mask");
  EXPECT_EQ(scrapes, 2);
}

}  // namespace
}  // namespace stratus::console
