#include "common/memory_budget.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace stratus {
namespace {

using ::testing::HasSubstr;

TEST(MemoryBudgetTest, ReservesUpToTheLimitAndGivesBack) {
  MemoryBudget budget(100);
  auto a = budget.Reserve(60, "image a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(budget.reserved(), 60u);
  auto b = budget.Reserve(50, "image b");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(b.status().message(), HasSubstr("image b needs"));
  EXPECT_EQ(budget.reserved(), 60u);  // a refusal holds nothing
  auto c = budget.Reserve(40, "image c");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(budget.reserved(), 100u);
  a->Release();
  EXPECT_EQ(budget.reserved(), 40u);
  {
    MemoryBudget::Reservation moved = std::move(*c);
    EXPECT_EQ(moved.bytes(), 40u);
    EXPECT_EQ(c->bytes(), 0u);
  }
  EXPECT_EQ(budget.reserved(), 0u);
  EXPECT_EQ(budget.peak(), 100u);
  // More than the whole budget is refused outright.
  EXPECT_EQ(budget.Reserve(101, "huge").status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(MemoryBudgetTest, ZeroLimitCountsWithoutRefusing) {
  MemoryBudget budget(0);
  auto a = budget.Reserve(size_t{1} << 40, "big");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(budget.reserved(), size_t{1} << 40);
}

TEST(MemoryBudgetTest, ConcurrentReservationsNeverExceedTheLimit) {
  MemoryBudget budget(1000);
  std::vector<std::thread> threads;
  std::atomic<int> refused{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto r = budget.Reserve(300, "x");
        if (!r.ok()) ++refused;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(budget.peak(), 1000u);
  EXPECT_EQ(budget.reserved(), 0u);
}

}  // namespace
}  // namespace stratus
