#include "common/admission.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "common/testing/eventually.h"

namespace stratus {
namespace {

using std::chrono::milliseconds;
using testing_util::Eventually;

Admission::Clock::time_point In(milliseconds d) { return Admission::Clock::now() + d; }

TEST(AdmissionTest, RunsUpToTheLimitQueuesThenRefuses) {
  Admission admission({.max_running = 2, .max_waiting = 1});
  auto a = admission.Enter(In(milliseconds(10)), "work");
  auto b = admission.Enter(In(milliseconds(10)), "work");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(admission.running(), 2);
  // A third waits for a turn; a fourth finds the line full.
  std::atomic<bool> third_in{false};
  std::thread third([&] {
    auto c = admission.Enter(In(milliseconds(10000)), "work");
    ASSERT_TRUE(c.ok()) << c.status();
    third_in = true;
  });
  ASSERT_TRUE(Eventually([&] { return admission.waiting() == 1; }));
  auto d = admission.Enter(In(milliseconds(10000)), "AnalyzeFaces");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(d.status().message(), ::testing::HasSubstr("AnalyzeFaces: 2 running and 1 waiting"));
  EXPECT_FALSE(third_in);
  a->Leave();  // the turn passes to the waiter
  third.join();
  EXPECT_TRUE(third_in);
  EXPECT_EQ(admission.running(), 1);  // the third left again when its thread ended
}

TEST(AdmissionTest, AWaiterLeavesAtItsDeadlineWithoutBlockingTheLine) {
  Admission admission({.max_running = 1, .max_waiting = 2});
  auto a = admission.Enter(In(milliseconds(10)), "work");
  ASSERT_TRUE(a.ok());
  auto late = admission.Enter(In(milliseconds(50)), "work");
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(admission.waiting(), 0);
  // The line still moves: a later waiter gets the turn once `a` leaves.
  std::atomic<bool> in{false};
  std::thread next([&] {
    auto t = admission.Enter(In(milliseconds(10000)), "work");
    in = t.ok();
  });
  ASSERT_TRUE(Eventually([&] { return admission.waiting() == 1; }));
  a->Leave();
  next.join();
  EXPECT_TRUE(in);
}

TEST(AdmissionTest, ConcurrentCallersNeverExceedTheLimit) {
  Admission admission({.max_running = 3, .max_waiting = 100});
  std::atomic<int> inside{0}, most{0}, done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto ticket = admission.Enter(In(milliseconds(30000)), "work");
        ASSERT_TRUE(ticket.ok());
        const int now = ++inside;
        int m = most.load();
        while (now > m && !most.compare_exchange_weak(m, now)) {
        }
        std::this_thread::yield();
        --inside;
        ++done;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(done, 16 * 50);
  EXPECT_LE(most, 3);
  EXPECT_EQ(admission.running(), 0);
}

}  // namespace
}  // namespace stratus
