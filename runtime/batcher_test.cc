#include "runtime/batcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace stratus::runtime {
namespace {

using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Le;
using namespace std::chrono_literals;
using IntBatcher = Batcher<int, int>;

// A gate the fake batch function can block on, to hold the worker busy.
class Gate {
 public:
  void Open() {
    std::lock_guard<std::mutex> l(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Records the batches it is given and returns 10 * each item.
struct Recorder {
  std::mutex mu;
  std::vector<std::vector<int>> batches;
  std::atomic<int> calls{0};
  IntBatcher::BatchFn Fn(std::chrono::milliseconds sleep = 0ms, Gate* gate = nullptr) {
    return [this, sleep, gate](std::vector<int>& batch) -> absl::StatusOr<std::vector<int>> {
      {
        std::lock_guard<std::mutex> l(mu);
        batches.push_back(batch);
      }
      calls++;
      if (gate) gate->Wait();
      if (sleep > 0ms) std::this_thread::sleep_for(sleep);
      std::vector<int> out;
      for (int v : batch) out.push_back(v * 10);
      return out;
    };
  }
  std::vector<size_t> Sizes() {
    std::lock_guard<std::mutex> l(mu);
    std::vector<size_t> s;
    for (auto& b : batches) s.push_back(b.size());
    return s;
  }
};

BatcherOptions Opts(int max_batch, std::chrono::microseconds delay, int queue = 256,
                    bool skip_delay_when_idle = false) {
  BatcherOptions o;
  o.skip_delay_when_idle = skip_delay_when_idle;
  o.max_batch_size = max_batch;
  o.max_queue_delay = delay;
  o.max_queue_size = queue;
  return o;
}

void WaitForCalls(const Recorder& r, int n) {
  for (int i = 0; i < 5000 && r.calls.load() < n; ++i) std::this_thread::sleep_for(1ms);
  ASSERT_GE(r.calls.load(), n);
}

TEST(BatcherTest, ResultsComeBackInSubmissionOrder) {
  Recorder rec;
  IntBatcher b(Opts(4, 20ms));
  ASSERT_TRUE(b.AddModel("m", rec.Fn()).ok());
  std::vector<std::future<BatchResult<int>>> futures;
  for (int i = 0; i < 23; ++i) futures.push_back(b.Submit("m", i));
  for (int i = 0; i < 23; ++i) {
    BatchResult<int> r = futures[i].get();
    ASSERT_TRUE(r.value.ok()) << r.value.status();
    EXPECT_EQ(*r.value, i * 10);
    EXPECT_GE(r.info.batch_size, 1);
  }
  // The batch function saw the items in submission order, too.
  std::vector<int> seen;
  for (auto& batch : rec.batches) seen.insert(seen.end(), batch.begin(), batch.end());
  ASSERT_EQ(seen.size(), 23u);
  for (int i = 0; i < 23; ++i) EXPECT_EQ(seen[i], i);
}

TEST(BatcherTest, BatchesNeverExceedTheMaximumAndFillUpWhenItemsAreWaiting) {
  Recorder rec;
  Gate gate;
  IntBatcher b(Opts(4, 500ms));
  ASSERT_TRUE(b.AddModel("m", rec.Fn(0ms, &gate)).ok());
  std::vector<std::future<BatchResult<int>>> futures;
  // Four fill the first batch at once (no waiting for the 500 ms delay); hold the worker in it
  // while nine more queue up.
  for (int i = 0; i < 4; ++i) futures.push_back(b.Submit("m", i));
  WaitForCalls(rec, 1);
  for (int i = 4; i < 13; ++i) futures.push_back(b.Submit("m", i));
  const auto start = std::chrono::steady_clock::now();
  gate.Open();
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(futures[i].get().value.ok());
  // The three full batches ran without waiting for the delay; the last item waits for it.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 400ms);
  ASSERT_TRUE(futures[12].get().value.ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 400ms);
  EXPECT_THAT(rec.Sizes(), ElementsAre(4, 4, 4, 1));
  EXPECT_THAT(rec.Sizes(), Each(Le(4u)));
}

TEST(BatcherTest, ALoneItemWaitsAtMostTheDelay) {
  Recorder rec;
  IntBatcher b(Opts(8, 60ms));
  ASSERT_TRUE(b.AddModel("m", rec.Fn()).ok());
  const auto start = std::chrono::steady_clock::now();
  BatchResult<int> r = b.Submit("m", 7).get();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.value.ok());
  EXPECT_EQ(r.info.batch_size, 1);
  EXPECT_GE(elapsed, 55ms);    // it did wait for company
  EXPECT_LT(elapsed, 1000ms);  // but not much longer than the bound
  EXPECT_GE(r.info.queue_ms, 55.0);

  // Delay 0: runs at once.
  Recorder rec0;
  IntBatcher b0(Opts(8, 0ms));
  ASSERT_TRUE(b0.AddModel("m", rec0.Fn()).ok());
  const auto start0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(b0.Submit("m", 1).get().value.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start0, 50ms);
}

TEST(BatcherTest, ALoneSequentialCallerStopsWaitingAndConcurrentCallersStillBatch) {
  Recorder rec;
  IntBatcher b(Opts(4, 100ms, 256, /*skip_delay_when_idle=*/true));
  ASSERT_TRUE(b.AddModel("m", rec.Fn()).ok());
  // The first lone item waits the delay in vain...
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(b.Submit("m", 1).get().value.ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 95ms);
  // ... so the next lone ones run at once.
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(b.Submit("m", i).get().value.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 90ms);
  // Items found queued together turn waiting back on.
  Gate gate;
  std::vector<std::vector<int>> batches;
  std::atomic<int> calls{0};
  IntBatcher b2(Opts(4, 100ms, 256, /*skip_delay_when_idle=*/true));
  ASSERT_TRUE(b2.AddModel("m", [&](std::vector<int>& batch) -> absl::StatusOr<std::vector<int>> {
                  batches.push_back(batch);  // only the worker thread writes
                  calls++;
                  if (batch[0] == 100) gate.Wait();
                  return batch;
                }).ok());
  ASSERT_TRUE(b2.Submit("m", 1).get().value.ok());  // waits in vain: waiting off
  auto busy = b2.Submit("m", 100);                  // runs at once and holds the worker
  for (int i = 0; i < 5000 && calls.load() < 2; ++i) std::this_thread::sleep_for(1ms);
  ASSERT_EQ(calls.load(), 2);
  auto two = b2.Submit("m", 2);
  auto three = b2.Submit("m", 3);
  gate.Open();
  ASSERT_TRUE(busy.get().value.ok());
  ASSERT_TRUE(two.get().value.ok());
  ASSERT_TRUE(three.get().value.ok());
  start = std::chrono::steady_clock::now();
  ASSERT_TRUE(b2.Submit("m", 4).get().value.ok());  // waiting is on again
  EXPECT_GE(std::chrono::steady_clock::now() - start, 95ms);
  EXPECT_THAT(batches,
              ElementsAre(ElementsAre(1), ElementsAre(100), ElementsAre(2, 3), ElementsAre(4)));
}

TEST(BatcherTest, EightConcurrentCallersAreBatchedTogether) {
  Recorder rec;
  metrics::Registry registry;
  BatcherOptions o = Opts(8, 5ms);
  o.metrics = &registry;
  IntBatcher b(o);
  ASSERT_TRUE(b.AddModel("m", rec.Fn(3ms)).ok());
  constexpr int kThreads = 8, kPerThread = 40;
  std::atomic<int> wrong{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int v = t * 1000 + i;
        BatchResult<int> r = b.Submit("m", v).get();  // closed loop, like real callers
        if (!r.value.ok()) {
          failed++;
        } else if (*r.value != v * 10) {
          wrong++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(failed.load(), 0);
  size_t total = 0, largest = 0;
  for (size_t s : rec.Sizes()) {
    total += s;
    largest = std::max(largest, s);
  }
  EXPECT_EQ(total, static_cast<size_t>(kThreads * kPerThread));
  EXPECT_LE(largest, 8u);
  EXPECT_GT(largest, 1u);  // callers arriving while a batch runs share the next one
  EXPECT_LT(rec.Sizes().size(), static_cast<size_t>(kThreads * kPerThread));

  // Metrics: one observation per batch, and the queue drained.
  const std::string text = registry.Serialize();
  EXPECT_THAT(text, HasSubstr("stratus_detector_batch_size_count{model=\"m\"} " +
                              std::to_string(rec.Sizes().size())));
  EXPECT_THAT(text, HasSubstr("stratus_detector_queue_depth{model=\"m\"} 0"));
  EXPECT_THAT(text, HasSubstr("stratus_detector_inference_seconds_count{model=\"m\"}"));
}

TEST(BatcherTest, ShutdownFailsPendingItemsWithUnavailable) {
  Recorder rec;
  Gate gate;
  IntBatcher b(Opts(1, 0ms));
  ASSERT_TRUE(b.AddModel("m", rec.Fn(0ms, &gate)).ok());
  auto running = b.Submit("m", 1);
  WaitForCalls(rec, 1);
  std::vector<std::future<BatchResult<int>>> queued;
  for (int i = 0; i < 5; ++i) queued.push_back(b.Submit("m", 2 + i));
  std::thread stopper([&] { b.Shutdown(); });
  // Once Submit() answers UNAVAILABLE at once, the queue is stopped; then let the running batch
  // finish.
  for (int i = 0; i < 5000; ++i) {
    auto probe = b.Submit("m", 99);
    if (probe.wait_for(0ms) == std::future_status::ready) {
      EXPECT_EQ(probe.get().value.status().code(), absl::StatusCode::kUnavailable);
      break;
    }
    queued.push_back(std::move(probe));
    std::this_thread::sleep_for(1ms);
  }
  gate.Open();
  stopper.join();
  BatchResult<int> r = running.get();
  ASSERT_TRUE(r.value.ok());  // the running batch completes
  EXPECT_EQ(*r.value, 10);
  for (auto& f : queued) {
    EXPECT_EQ(f.get().value.status().code(), absl::StatusCode::kUnavailable);
  }
  EXPECT_EQ(rec.calls.load(), 1);
  EXPECT_EQ(b.Submit("m", 3).get().value.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(b.AddModel("n", rec.Fn()).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(BatcherTest, ErrorsOfTheBatchFunctionReachEveryItemOfThatBatchOnly) {
  IntBatcher b(Opts(1, 0ms));
  ASSERT_TRUE(b.AddModel("m", [](std::vector<int>& batch) -> absl::StatusOr<std::vector<int>> {
                 if (batch[0] < 0) return absl::InvalidArgumentError("negative");
                 if (batch[0] == 13) throw std::runtime_error("unlucky");
                 if (batch[0] == 42) return std::vector<int>{1, 2};
                 return batch;
               }).ok());
  EXPECT_EQ(b.Submit("m", -1).get().value.status().code(), absl::StatusCode::kInvalidArgument);
  auto thrown = b.Submit("m", 13).get().value.status();
  EXPECT_EQ(thrown.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(thrown.message(), HasSubstr("unlucky"));
  auto miscounted = b.Submit("m", 42).get().value.status();
  EXPECT_EQ(miscounted.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(miscounted.message(), HasSubstr("2 results for 1 inputs"));
  auto ok = b.Submit("m", 5).get().value;
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 5);

  // A batch error goes to every item of the batch.
  IntBatcher b4(Opts(4, 200ms));
  std::atomic<int> calls{0};
  ASSERT_TRUE(b4.AddModel("m", [&](std::vector<int>& batch) -> absl::StatusOr<std::vector<int>> {
                  calls++;
                  return absl::UnavailableError("device lost");
                }).ok());
  std::vector<std::future<BatchResult<int>>> fs;
  for (int i = 0; i < 4; ++i) fs.push_back(b4.Submit("m", i));
  for (auto& f : fs) {
    BatchResult<int> r = f.get();
    EXPECT_EQ(r.value.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(r.info.batch_size, 4);
  }
  EXPECT_EQ(calls.load(), 1);
}

TEST(BatcherTest, FullQueueIsResourceExhaustedAndExpiredItemsDoNotRun) {
  Recorder rec;
  Gate gate;
  IntBatcher b(Opts(1, 0ms, /*queue=*/2));
  ASSERT_TRUE(b.AddModel("m", rec.Fn(0ms, &gate)).ok());
  auto running = b.Submit("m", 1);
  WaitForCalls(rec, 1);
  auto expires = b.Submit("m", 2, std::chrono::steady_clock::now() + 10ms);
  auto waits = b.Submit("m", 3);
  auto shed = b.Submit("m", 4);
  ASSERT_EQ(shed.wait_for(0ms), std::future_status::ready);
  auto shed_status = shed.get().value.status();
  EXPECT_EQ(shed_status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(shed_status.message(), HasSubstr("'m'"));
  std::this_thread::sleep_for(30ms);
  gate.Open();
  EXPECT_TRUE(running.get().value.ok());
  EXPECT_EQ(expires.get().value.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(waits.get().value.ok());
  std::lock_guard<std::mutex> l(rec.mu);
  ASSERT_EQ(rec.batches.size(), 2u);  // 2 never ran
  EXPECT_THAT(rec.batches[1], ElementsAre(3));
}

TEST(BatcherTest, UnknownModelsAndBadOptions) {
  IntBatcher b(Opts(4, 1ms));
  EXPECT_EQ(b.Submit("nope", 1).get().value.status().code(), absl::StatusCode::kNotFound);
  Recorder rec;
  ASSERT_TRUE(b.AddModel("m", rec.Fn(), /*max_batch_size=*/2).ok());
  EXPECT_EQ(b.max_batch_size("m"), 2);
  EXPECT_EQ(b.AddModel("m", rec.Fn()).code(), absl::StatusCode::kAlreadyExists);
  IntBatcher bad(Opts(0, 1ms));
  EXPECT_EQ(bad.AddModel("m", rec.Fn()).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateBatcherOptions(Opts(4, -1ms)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateBatcherOptions(Opts(4, 1ms, 0)).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace stratus::runtime
