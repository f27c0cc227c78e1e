#include "tools/cost/load.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stratus::cost {
namespace {

using ::testing::DoubleNear;
using ::testing::Optional;
using ::testing::SizeIs;

TEST(NormaliseServiceName, AcceptsTheSpellingsInUse) {
  EXPECT_EQ(NormaliseServiceName("stratus-detector"), "detector");
  EXPECT_EQ(NormaliseServiceName("stratus.v1.DetectorService"), "detector");
  EXPECT_EQ(NormaliseServiceName("mask"), "mask");
  EXPECT_EQ(NormaliseServiceName("sentiment-service"), "sentiment");
}

TEST(ExtractLoads, MeasuresRatesCpuAndLatencyPerInterval) {
  // Two scrapes a minute apart, then a restart (counters drop) a minute later.
  constexpr char kText[] = R"(
stratus_rpc_requests_total{service="mask",method="Classify",code="ok"} 100 0
stratus_rpc_requests_total{service="mask",method="Classify",code="ok"} 160 60000
stratus_rpc_requests_total{service="mask",method="Classify",code="ok"} 30 120000
stratus_rpc_requests_total{service="mask",method="Classify",code="invalid_argument"} 1 0
stratus_rpc_requests_total{service="mask",method="Classify",code="invalid_argument"} 1 60000
stratus_rpc_requests_total{service="mask",method="Classify",code="invalid_argument"} 1 120000
stratus_rpc_requests_total{service="mask",method="Check",code="ok"} 10 0
stratus_rpc_requests_total{service="mask",method="Check",code="ok"} 9000 120000
stratus_rpc_duration_seconds_sum{service="mask",method="Classify"} 1 0
stratus_rpc_duration_seconds_sum{service="mask",method="Classify"} 4.5 120000
stratus_rpc_duration_seconds_count{service="mask",method="Classify"} 100 0
stratus_rpc_duration_seconds_count{service="mask",method="Classify"} 170 120000
process_cpu_seconds_total 5 0
process_cpu_seconds_total 8 60000
process_cpu_seconds_total 3 120000
)";
  absl::StatusOr<std::vector<Series>> s = ParsePrometheusText(kText, 0);
  ASSERT_TRUE(s.ok()) << s.status();
  absl::StatusOr<std::map<std::string, ServiceLoad>> loads = ExtractLoads(*s, "mask");
  ASSERT_TRUE(loads.ok()) << loads.status();
  ASSERT_EQ(loads->count("mask"), 1u);
  const ServiceLoad& l = loads->at("mask");
  ASSERT_THAT(l.intervals, SizeIs(2));
  EXPECT_THAT(l.intervals[0].requests, DoubleNear(60, 1e-9));  // Health checks left out.
  EXPECT_THAT(l.intervals[1].requests, DoubleNear(30, 1e-9));  // From zero after the restart.
  EXPECT_THAT(l.intervals[0].cpu_seconds, DoubleNear(3, 1e-9));
  EXPECT_THAT(l.intervals[1].cpu_seconds, DoubleNear(3, 1e-9));
  EXPECT_THAT(l.window_s, DoubleNear(120, 1e-9));
  EXPECT_THAT(l.mean_rps, DoubleNear(90.0 / 120, 1e-9));
  EXPECT_THAT(l.peak_rps, DoubleNear(1, 1e-9));
  EXPECT_THAT(l.cpu_seconds_per_request, Optional(DoubleNear(6.0 / 90, 1e-9)));
  EXPECT_THAT(l.mean_latency_s, Optional(DoubleNear(3.5 / 70, 1e-9)));
}

TEST(ExtractLoads, GroupsByJobLabelAndNeedsTwoScrapes) {
  constexpr char kText[] = R"(
stratus_rpc_requests_total{job="stratus-detector",service="detector",method="Detect"} 0 0
stratus_rpc_requests_total{job="stratus-detector",service="detector",method="Detect"} 600 60000
process_cpu_seconds_total{job="stratus-detector"} 0 0
process_cpu_seconds_total{job="stratus-detector"} 30 60000
process_cpu_seconds_total 99 0
stratus_rpc_requests_total{job="mask",method="Classify"} 5 0
)";
  absl::StatusOr<std::vector<Series>> s = ParsePrometheusText(kText, 0);
  ASSERT_TRUE(s.ok()) << s.status();
  absl::StatusOr<std::map<std::string, ServiceLoad>> loads = ExtractLoads(*s);
  ASSERT_TRUE(loads.ok()) << loads.status();
  ASSERT_EQ(loads->size(), 1u);  // mask has one scrape only; the unlabelled CPU is nobody's.
  EXPECT_THAT(loads->at("detector").cpu_seconds_per_request, Optional(DoubleNear(0.05, 1e-12)));
  EXPECT_FALSE(ExtractLoads({}).ok());
}

}  // namespace
}  // namespace stratus::cost
