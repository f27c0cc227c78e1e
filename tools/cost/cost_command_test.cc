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

// The break-even model in the JSON, as the console's chart draws it: the serverless line meets
// the dedicated VMs' step curve at break_even_rps, and the curve spans the measured rates.
TEST_F(RecordedMetrics, BreakEvenLiesOnBothCurvesOfTheModel) {
  for (const char* name : {"detector", "sentiment", "mask", "recognition"}) {
    SCOPED_TRACE(name);
    nlohmann::json s = Service(report_, name);
    ASSERT_TRUE(s["serverless_monthly_per_rps"].is_number());
    const double slope = s["serverless_monthly_per_rps"].get<double>();
    // The serverless placement is that line at the measured mean rate.
    EXPECT_NEAR(slope * s["mean_rps"].get<double>(), Monthly(s, "serverless"),
                1e-9 * Monthly(s, "serverless"));
    const nlohmann::json& curve = s["dedicated_curve"];
    ASSERT_TRUE(curve.is_array());
    ASSERT_GE(curve.size(), 2u);
    EXPECT_LE(curve.size(), 200u);
    EXPECT_EQ(curve[0][0].get<double>(), 0);
    for (size_t i = 0; i + 1 < curve.size(); ++i) {
      EXPECT_LE(curve[i][0].get<double>(), curve[i + 1][0].get<double>()) << i;
      EXPECT_LE(curve[i][1].get<double>(), curve[i + 1][1].get<double>()) << i;
    }
    const double x_max = curve.back()[0].get<double>();
    EXPECT_GE(x_max, 1.2 * s["peak_rps"].get<double>() - 1e-9);
    EXPECT_GE(x_max, 2 * s["mean_rps"].get<double>() - 1e-9);
    // Sized for its peak, the dedicated-vm placement is the curve's value at the peak rate.
    auto at = [&](double rps) {
      for (size_t i = 0; i + 1 < curve.size(); ++i) {
        double x0 = curve[i][0], x1 = curve[i + 1][0], y0 = curve[i][1], y1 = curve[i + 1][1];
        if (x0 < x1 && x0 <= rps && rps <= x1) return y0 + (y1 - y0) * (rps - x0) / (x1 - x0);
      }
      ADD_FAILURE() << rps << " outside the curve";
      return 0.0;
    };
    EXPECT_NEAR(at(s["peak_rps"].get<double>()), Monthly(s, "dedicated-vm"), 1e-6);
    if (s["break_even_rps"].is_number()) {
      const double be = s["break_even_rps"].get<double>();
      EXPECT_GE(x_max, 2 * be - 1e-9);
      EXPECT_NEAR(at(be), slope * be, 1e-6 * slope * be);
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
