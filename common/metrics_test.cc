#include "common/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

namespace stratus::metrics {
namespace {

using testing::HasSubstr;

TEST(MetricsTest, CounterExposition) {
  Registry r;
  auto& family = BuildCounter().Name("x_total").Help("Things counted.").Register(r);
  family.Add({{"method", "Detect"}, {"code", "ok"}}).Increment();
  family.Add({{"method", "Detect"}, {"code", "ok"}}).Increment(2);
  family.Add({{"method", "Detect"}, {"code", "ok"}}).Increment(-5);  // ignored
  std::string text = r.Serialize();
  EXPECT_THAT(text, HasSubstr("# HELP x_total Things counted.\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE x_total counter\n"));
  EXPECT_THAT(text, HasSubstr("x_total{code=\"ok\",method=\"Detect\"} 3\n"));
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  Registry r;
  BuildGauge().Name("g").Help("h").Register(r).Add({{"path", "a\"b\\c\nd"}}).Set(1.5);
  EXPECT_THAT(r.Serialize(), HasSubstr("g{path=\"a\\\"b\\\\c\\nd\"} 1.5\n"));
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  Registry r;
  auto& h = BuildHistogram().Name("lat_seconds").Help("h").Register(r).Add({}, Histogram::BucketBoundaries{0.1, 1});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(0.5);
  h.Observe(5);
  std::string text = r.Serialize();
  EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{le=\"0.1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{le=\"1\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{le=\"+Inf\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_count 4\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_sum 6.05\n"));
}

TEST(MetricsTest, SameNameReturnsSameFamily) {
  Registry r;
  auto& a = BuildCounter().Name("c").Help("h").Register(r);
  auto& b = BuildCounter().Name("c").Help("h").Register(r);
  EXPECT_EQ(&a, &b);
}

TEST(MetricsTest, ConcurrentIncrementsAreNotLost) {
  Registry r;
  auto& c = BuildCounter().Name("c").Help("h").Register(r).Add({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) c.Increment();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.Value(), 40000);
}

TEST(MetricsTest, ProcessMetricsAreFilledOnScrape) {
  Registry r;
  RegisterProcessMetrics(r);
  std::string text = r.Serialize();
  EXPECT_THAT(text, HasSubstr("process_resident_memory_bytes "));
  EXPECT_THAT(text, testing::Not(HasSubstr("process_resident_memory_bytes 0\n")));
}

TEST(MetricsTest, BuildInfoNamesVersionAndRevision) {
  Registry r;
  RegisterBuildInfo(r);
  EXPECT_THAT(r.Serialize(), testing::ContainsRegex(
                                 "stratus_build_info\\{revision=\"([0-9a-f]+(-dirty)?|unknown)\","
                                 "version=\"[0-9]+\\.[0-9]+\\.[0-9]+\"\\} 1\n"));
}

TEST(MetricsTest, RemovedSeriesAreNotExported) {
  Registry r;
  auto& family = BuildGauge().Name("fps").Help("h").Register(r);
  auto& cam1 = family.Add({{"stream", "cam1"}});
  family.Add({{"stream", "cam2"}}).Set(2);
  cam1.Set(1);
  family.Remove(&cam1);
  std::string text = r.Serialize();
  EXPECT_THAT(text, testing::Not(HasSubstr("cam1")));
  EXPECT_THAT(text, HasSubstr("fps{stream=\"cam2\"} 2\n"));
}

}  // namespace
}  // namespace stratus::metrics
