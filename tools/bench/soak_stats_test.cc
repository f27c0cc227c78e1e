// soak_stats: the histogram's percentiles against exact ones, the --mix/--rate lists, and how
// clients are shared out among operations.
#include "tools/bench/soak_stats.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace stratus::bench {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(LatencyHistogram, EmptyIsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0);
  EXPECT_EQ(h.Percentile(0.5), 0);
  EXPECT_EQ(h.Percentile(0.99), 0);
}

TEST(LatencyHistogram, PercentilesWithinTwoPercent) {
  LatencyHistogram h;
  for (int i = 1; i <= 10000; ++i) h.Add(i * 0.1);  // 0.1 .. 1000 ms
  EXPECT_EQ(h.count(), 10000);
  EXPECT_NEAR(h.Percentile(0.5), 500, 500 * 0.02);
  EXPECT_NEAR(h.Percentile(0.99), 990, 990 * 0.02);
  EXPECT_NEAR(h.Percentile(0), 0.1, 0.1 * 0.02);
  EXPECT_NEAR(h.Percentile(1), 1000, 1000 * 0.02);
}

TEST(LatencyHistogram, OneValueIsItsOwnPercentile) {
  LatencyHistogram h;
  h.Add(7.25);
  EXPECT_NEAR(h.Percentile(0.5), 7.25, 7.25 * 0.02);
  EXPECT_NEAR(h.Percentile(0.99), 7.25, 7.25 * 0.02);
}

TEST(LatencyHistogram, OutOfRangeValuesLandInTheEndBuckets) {
  LatencyHistogram h;
  h.Add(0);
  h.Add(-1);
  EXPECT_LE(h.Percentile(1), LatencyHistogram::kBaseMs * LatencyHistogram::kRatio);
  LatencyHistogram slow;
  slow.Add(1e9);
  EXPECT_GT(slow.Percentile(0.5), 60000);
}

TEST(LatencyHistogram, MergeAddsCounts) {
  LatencyHistogram fast, slow;
  for (int i = 0; i < 98; ++i) fast.Add(1);
  for (int i = 0; i < 2; ++i) slow.Add(100);
  fast.Merge(slow);
  EXPECT_EQ(fast.count(), 100);
  EXPECT_NEAR(fast.Percentile(0.5), 1, 0.02);
  EXPECT_NEAR(fast.Percentile(0.97), 1, 0.02);
  EXPECT_NEAR(fast.Percentile(0.99), 100, 2);
}

TEST(ParseNamedValues, ValuesByName) {
  auto v = ParseNamedValues("mix", "b=2.5, a=1,,c=0", {"a", "b", "c", "d"});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_THAT(*v, ElementsAre(1, 2.5, 0, 0));
  auto empty = ParseNamedValues("rate", "", {"a"});
  ASSERT_TRUE(empty.ok());
  EXPECT_THAT(*empty, ElementsAre(0));
}

TEST(ParseNamedValues, BadEntriesNameTheFlagAndTheEntry) {
  for (const char* bad : {"x=1", "a=-1", "a=", "a", "a=1e999", "a=nan", "a=one"}) {
    auto v = ParseNamedValues("mix", bad, {"a", "b"});
    ASSERT_FALSE(v.ok()) << bad;
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(v.status().message(), HasSubstr("--mix"));
    EXPECT_THAT(v.status().message(), HasSubstr(std::string("\"") + bad + "\""));
    EXPECT_THAT(v.status().message(), HasSubstr("a, b"));
  }
}

std::vector<int> Counts(const std::vector<int>& ops, int n) {
  std::vector<int> c(n, 0);
  for (int op : ops) c[op]++;
  return c;
}

TEST(AssignClients, ProportionalShares) {
  auto ops = AssignClients({85, 1, 10, 2, 2}, 100);
  ASSERT_EQ(ops.size(), 100u);
  EXPECT_TRUE(std::is_sorted(ops.begin(), ops.end()));
  EXPECT_THAT(Counts(ops, 5), ElementsAre(85, 1, 10, 2, 2));
  EXPECT_THAT(Counts(AssignClients({1, 1, 1}, 10), 3), ElementsAre(4, 3, 3));
}

TEST(AssignClients, EveryWeightedOperationGetsAClient) {
  // 0.5% of 20 clients rounds to none; it takes one from the largest share.
  EXPECT_THAT(Counts(AssignClients({99, 0.5, 0.5, 0}, 20), 4), ElementsAre(18, 1, 1, 0));
  // Not when there are fewer clients than operations.
  EXPECT_THAT(Counts(AssignClients({1, 1, 1}, 2), 3), ElementsAre(1, 1, 0));
}

TEST(AssignClients, NothingToAssign) {
  EXPECT_TRUE(AssignClients({0, 0}, 10).empty());
  EXPECT_TRUE(AssignClients({}, 10).empty());
  EXPECT_TRUE(AssignClients({1}, 0).empty());
}

}  // namespace
}  // namespace stratus::bench
