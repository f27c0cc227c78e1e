#include "tools/cost/metrics.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stratus::cost {
namespace {

using ::testing::DoubleEq;
using ::testing::HasSubstr;
using ::testing::SizeIs;

const Series* Find(const std::vector<Series>& all, const std::string& name, const Labels& l) {
  for (const Series& s : all) {
    if (s.name == name && s.labels == l) return &s;
  }
  return nullptr;
}

TEST(ParsePrometheusText, ReadsLabelsTimestampsAndSpecialValues) {
  constexpr char kText[] = R"(# HELP stratus_rpc_requests_total RPCs.
# TYPE stratus_rpc_requests_total counter
stratus_rpc_requests_total{service="s",method="A",code="OK"} 10 1000
stratus_rpc_requests_total{method="A",code="OK",service="s"} 25 61000
stratus_rpc_duration_seconds_bucket{le="+Inf",method="A"} 7
weird{msg="say \"hi\"\\n",} +Inf 2000
process_cpu_seconds_total 1.5e1
)";
  absl::StatusOr<std::vector<Series>> s = ParsePrometheusText(kText, 42);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_THAT(*s, SizeIs(4));
  const Series* req =
      Find(*s, "stratus_rpc_requests_total", {{"service", "s"}, {"method", "A"}, {"code", "OK"}});
  ASSERT_NE(req, nullptr);  // Label order does not split a series.
  ASSERT_THAT(req->samples, SizeIs(2));
  EXPECT_THAT(req->samples[0].time_s, DoubleEq(1));
  EXPECT_THAT(req->samples[1].time_s, DoubleEq(61));
  EXPECT_THAT(req->samples[1].value, DoubleEq(25));
  const Series* weird = Find(*s, "weird", {{"msg", "say \"hi\"\\n"}});
  ASSERT_NE(weird, nullptr);
  EXPECT_TRUE(std::isinf(weird->samples[0].value));
  const Series* cpu = Find(*s, "process_cpu_seconds_total", {});
  ASSERT_NE(cpu, nullptr);
  EXPECT_THAT(cpu->samples[0].time_s, DoubleEq(42));  // No timestamp: the default.
  EXPECT_THAT(cpu->samples[0].value, DoubleEq(15));
}

TEST(ParsePrometheusText, RejectsMalformedLinesWithTheirNumber) {
  for (const char* bad :
       {"m{a=\"x\" 1", "m{a=x} 1", "m 1 2 3", "m notanumber", "{a=\"b\"} 1", "m 1 1.5"}) {
    absl::StatusOr<std::vector<Series>> s = ParsePrometheusText(std::string("\n") + bad, 0);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_THAT(std::string(s.status().message()), HasSubstr("line 2")) << bad;
  }
}

TEST(ParseQueryRangeJson, ReadsAMatrix) {
  constexpr char kJson[] = R"({"status":"success","data":{"resultType":"matrix","result":[
    {"metric":{"__name__":"stratus_rpc_requests_total","job":"detector","method":"Detect"},
     "values":[[1700000000,"1"],[1700000060,"61"]]},
    {"metric":{"__name__":"process_cpu_seconds_total","job":"detector"},
     "values":[[1700000000,"0.5"],[1700000060.5,"9.5"]]}]}})";
  absl::StatusOr<std::vector<Series>> s = ParseQueryRangeJson(kJson);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_THAT(*s, SizeIs(2));
  const Series* cpu = Find(*s, "process_cpu_seconds_total", {{"job", "detector"}});
  ASSERT_NE(cpu, nullptr);
  EXPECT_THAT(cpu->samples[1].time_s, DoubleEq(1700000060.5));
  EXPECT_THAT(cpu->samples[1].value, DoubleEq(9.5));
}

TEST(ParseQueryRangeJson, RejectsErrorsAndAggregates) {
  EXPECT_FALSE(ParseQueryRangeJson(R"({"status":"error","error":"bad query"})").ok());
  EXPECT_FALSE(ParseQueryRangeJson("not json").ok());
  // sum(rate(...)) drops __name__: the tool needs the raw counters.
  absl::StatusOr<std::vector<Series>> agg = ParseQueryRangeJson(
      R"({"status":"success","data":{"resultType":"matrix","result":[
        {"metric":{"job":"x"},"values":[[1,"2"]]}]}})");
  ASSERT_FALSE(agg.ok());
  EXPECT_THAT(std::string(agg.status().message()), HasSubstr("__name__"));
}

TEST(CounterIncrease, CountsResetsAsRestartsFromZero) {
  EXPECT_THAT(CounterIncrease({{0, 5}, {1, 8}, {2, 2}, {3, 4}}), DoubleEq(3 + 2 + 2));
  EXPECT_THAT(CounterIncrease({{0, 5}}), DoubleEq(0));
}

TEST(MergeSeries, JoinsScrapesOfTheSameSeries) {
  std::vector<Series> a = {{"m", {{"k", "v"}}, {{2, 20}}}};
  MergeSeries(a, {{"m", {{"k", "v"}}, {{1, 10}}}, {"n", {}, {{1, 1}}}});
  ASSERT_THAT(a, SizeIs(2));
  const Series* m = Find(a, "m", {{"k", "v"}});
  ASSERT_NE(m, nullptr);
  ASSERT_THAT(m->samples, SizeIs(2));
  EXPECT_THAT(m->samples[0].value, DoubleEq(10));
}

}  // namespace
}  // namespace stratus::cost
