// End to end on recorded /metrics (testdata/) and the shipped AWS price file: the finding the
// platform is built on. See testdata/README.md for what the recordings hold.
#include "tools/cost/cost_command.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace stratus::cost {
namespace {

using ::testing::HasSubstr;

std::string Source(const std::string& rel) {
  const char* root = std::getenv("STRATUS_SOURCE_DIR");
  return std::string(root ? root : ".") + "/" + rel;
}

struct Result {
  int rc;
  std::string out, err;
};

Result RunCli(std::vector<std::string> args) {
  std::ostringstream out, err;
  int rc = RunCost(args, out, err);
  return {rc, out.str(), err.str()};
}

nlohmann::json Service(const nlohmann::json& report, const std::string& name) {
  for (const nlohmann::json& s : report["services"]) {
    if (s["service"] == name) return s;
  }
  ADD_FAILURE() << "no " << name << " in report";
  return {};
}

double Monthly(const nlohmann::json& s, const std::string& placement) {
  return s["placements"][placement]["monthly"].get<double>();
}

class RecordedMetrics : public ::testing::Test {
 protected:
  void SetUp() override {
    Result r = RunCli({"--prices", Source("deploy/prices/aws-2026.yaml"), "--json", "--metrics",
                       "detector=" + Source("tools/cost/testdata/detector.prom"), "--metrics",
                       "sentiment=" + Source("tools/cost/testdata/sentiment.prom"), "--metrics",
                       "mask=" + Source("tools/cost/testdata/mask.prom"), "--metrics",
                       "recognition=" + Source("tools/cost/testdata/recognition.prom")});
    ASSERT_EQ(r.rc, 0) << r.err;
    report_ = nlohmann::json::parse(r.out);
  }
  nlohmann::json report_;
};

TEST_F(RecordedMetrics, HeavySteadyDetectorBelongsOnADedicatedMachine) {
  nlohmann::json d = Service(report_, "detector");
  EXPECT_EQ(d["cheapest"], "dedicated-vm");
  EXPECT_EQ(d["work_source"], "measured cpu");
  EXPECT_GT(d["mean_rps"].get<double>(), 15);
  EXPECT_GT(d["active_fraction"].get<double>(), 0.99);
  EXPECT_GT(Monthly(d, "serverless"), 1.5 * Monthly(d, "dedicated-vm"));
  EXPECT_GT(Monthly(d, "pods"), Monthly(d, "dedicated-vm"));
  // Its load is far above the rate where serverless stops paying.
  ASSERT_TRUE(d["break_even_rps"].is_number());
  EXPECT_GT(d["mean_rps"].get<double>(), 2 * d["break_even_rps"].get<double>());
}

TEST_F(RecordedMetrics, BurstyLightServicesBelongOnServerless) {
  for (const char* name : {"sentiment", "mask", "recognition"}) {
    SCOPED_TRACE(name);
    nlohmann::json s = Service(report_, name);
    EXPECT_EQ(s["cheapest"], "serverless");
    EXPECT_LT(s["active_fraction"].get<double>(), 0.8);
    EXPECT_GT(s["peak_rps"].get<double>(), 5 * s["mean_rps"].get<double>());  // Bursty.
    EXPECT_LT(Monthly(s, "serverless"), 0.5 * Monthly(s, "dedicated-vm"));
    if (s["break_even_rps"].is_number()) {
      EXPECT_LT(s["mean_rps"].get<double>(), s["break_even_rps"].get<double>());
    }
  }
}

TEST(CostCommand, PrintsATableWithEveryPlacement) {
  Result r = RunCli({"--prices", Source("deploy/prices/aws-2026.yaml"), "--metrics",
                     "detector=" + Source("tools/cost/testdata/detector.prom")});
  ASSERT_EQ(r.rc, 0) << r.err;
  for (const char* s :
       {"dedicated-vm", "spot-vm", "serverless", "pods", "break-even", "aws us-east-1"}) {
    EXPECT_THAT(r.out, HasSubstr(s));
  }
}

TEST(CostCommand, ReadsAPrometheusQueryRange) {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("stratus_cost_qr_" + std::to_string(::getpid()) + ".json"))
                         .string();
  {
    std::ofstream f(path);
    f << R"({"status":"success","data":{"resultType":"matrix","result":[
      {"metric":{"__name__":"stratus_rpc_requests_total","job":"stratus-mask","method":"Classify",
                 "code":"OK"}, "values":[[0,"0"],[60,"0"],[120,"120"],[180,"120"],[240,"120"]]},
      {"metric":{"__name__":"process_cpu_seconds_total","job":"stratus-mask"},
       "values":[[0,"1"],[60,"1"],[120,"3.4"],[180,"3.4"],[240,"3.4"]]}]}})";
  }
  Result r =
      RunCli({"--prices", Source("deploy/prices/aws-2026.yaml"), "--json", "--prometheus", path});
  std::filesystem::remove(path);
  ASSERT_EQ(r.rc, 0) << r.err;
  nlohmann::json s = Service(nlohmann::json::parse(r.out), "mask");
  EXPECT_NEAR(s["mean_rps"].get<double>(), 0.5, 1e-9);
  EXPECT_NEAR(s["peak_rps"].get<double>(), 2, 1e-9);
  EXPECT_NEAR(s["work_seconds_per_request"].get<double>(), 0.02, 1e-9);
}

TEST(CostCommand, ReportsBadUsageAndBadInputs) {
  EXPECT_EQ(RunCli({}).rc, 2);
  EXPECT_EQ(RunCli({"--bogus"}).rc, 2);
  EXPECT_EQ(RunCli({"--utilisation", "1.5", "--metrics", "x"}).rc, 2);
  Result missing = RunCli({"--prices", Source("deploy/prices/aws-2026.yaml"), "--metrics",
                           "/nonexistent/metrics.prom"});
  EXPECT_EQ(missing.rc, 1);
  EXPECT_THAT(missing.err, HasSubstr("/nonexistent/metrics.prom"));
  Result no_prices = RunCli({"--prices", "/nonexistent/prices.yaml", "--metrics",
                             Source("tools/cost/testdata/detector.prom")});
  EXPECT_EQ(no_prices.rc, 1);
  // A file without job or service assignment where series carry only a `service` label works.
  Result by_label = RunCli({"--prices", Source("deploy/prices/aws-2026.yaml"), "--metrics",
                            Source("tools/cost/testdata/sentiment.prom")});
  EXPECT_EQ(by_label.rc, 0) << by_label.err;
}

}  // namespace
}  // namespace stratus::cost
