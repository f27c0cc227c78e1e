// A dynamic batcher in the manner of Triton's: per model a queue and one worker thread. Callers
// Submit() one item and get a future; the worker takes the first queued item, waits at most
// `max_queue_delay` (measured from that item's arrival) for the batch to fill up to
// `max_batch_size`, runs the model's batch function on the batch, and fulfils the futures in
// submission order.
//
//   Batcher<Image, Detections> batcher(options);
//   batcher.AddModel("objects", [&](std::vector<Image>& batch) { return RunModel(batch); });
//   std::future<BatchResult<Detections>> f = batcher.Submit("objects", image);
//   BatchResult<Detections> r = f.get();  // r.value: detections or the error; r.info: batch stats
//
// Errors (in BatchResult::value, never thrown):
//   NOT_FOUND            Submit() to a model that was not added;
//   RESOURCE_EXHAUSTED   the model's queue holds `max_queue_size` items (load shedding);
//   DEADLINE_EXCEEDED    the item's deadline passed while it was queued (it does not run);
//   UNAVAILABLE          the batcher shut down before the item ran;
//   INTERNAL             the batch function returned the wrong number of results or threw;
//   anything else        the batch function's error, given to every item of that batch.
//
// Metrics (when `metrics` is set), labelled {model}: stratus_detector_queue_depth (gauge, items
// waiting), stratus_detector_batch_size (histogram), stratus_detector_inference_seconds
// (histogram, wall time of the batch function); the detector service's names, since it is the
// one that serves through the batcher (dashboards and alert rules use them).
//
// Thread safety: AddModel(), Submit() and Shutdown() may be called from any thread. The batch
// function of one model is never called concurrently with itself; those of different models
// are. The destructor shuts down and joins the workers.
#ifndef STRATUS_RUNTIME_BATCHER_H_
#define STRATUS_RUNTIME_BATCHER_H_

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/metrics.h"

namespace stratus::runtime {

struct BatcherOptions {
  // Largest batch handed to a batch function (a model may ask for less in AddModel). 1: no
  // batching, every item runs alone.
  int max_batch_size = 8;
  // Longest the first item of a batch waits for others before the batch runs anyway. 0: run
  // what is queued as soon as the worker is free.
  std::chrono::microseconds max_queue_delay{2000};
  // Items waiting per model (not counting the batch running) beyond which Submit() fails with
  // RESOURCE_EXHAUSTED.
  int max_queue_size = 256;
  // Do not make a lone item wait for company that has not been coming: after a wait that
  // ended with a batch of one, the next lone item runs at once; as soon as the worker finds
  // more than one item queued, waiting resumes. A single sequential caller then pays no delay,
  // while concurrent callers still fill batches. false: always wait (Triton's behaviour).
  bool skip_delay_when_idle = true;
  // Where the metrics go; not owned, must outlive the batcher. nullptr: no metrics.
  metrics::Registry* metrics = nullptr;
};

// How the batch an item ran in went.
struct BatchInfo {
  int batch_size = 0;   // items in the batch (0: the item never ran)
  double queue_ms = 0;  // from Submit() until its batch started
  double run_ms = 0;    // wall time of the batch function
};

template <typename Out>
struct BatchResult {
  absl::StatusOr<Out> value = absl::UnknownError("not run");
  BatchInfo info;
};

// The metric handles of one model's queue (non-template part, batcher.cc).
struct BatcherMetrics {
  metrics::Gauge* queue_depth = nullptr;
  metrics::Histogram* batch_size = nullptr;
  metrics::Histogram* inference_seconds = nullptr;
  // Registers (or finds) the families in `registry` and returns the handles for `model`; all
  // null when `registry` is null.
  static BatcherMetrics For(metrics::Registry* registry, const std::string& model);
};

absl::Status ValidateBatcherOptions(const BatcherOptions& options);

template <typename In, typename Out>
class Batcher {
 public:
  using Clock = std::chrono::steady_clock;
  // Runs one batch; must return exactly one Out per input, in order, or an error for all.
  // Items may be moved from.
  using BatchFn = std::function<absl::StatusOr<std::vector<Out>>(std::vector<In>& batch)>;

  // `options` must pass ValidateBatcherOptions (checked in AddModel).
  explicit Batcher(BatcherOptions options) : options_(std::move(options)) {}
  ~Batcher() { Shutdown(); }
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Adds a queue and its worker for `model`. `max_batch_size` > 0 lowers the batch size for
  // this model (e.g. a model whose batch dimension is fixed to 1). AlreadyExists for a second
  // call with the same name; FailedPrecondition after Shutdown().
  absl::Status AddModel(const std::string& model, BatchFn fn, int max_batch_size = 0) {
    if (auto s = ValidateBatcherOptions(options_); !s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return absl::FailedPreconditionError("batcher is shut down");
    if (queues_.count(model))
      return absl::AlreadyExistsError("model '" + model + "' already added");
    auto q = std::make_unique<Queue>();
    q->name = model;
    q->fn = std::move(fn);
    q->max_batch = max_batch_size > 0 ? std::min(max_batch_size, options_.max_batch_size)
                                      : options_.max_batch_size;
    q->metrics = BatcherMetrics::For(options_.metrics, model);
    Queue* raw = q.get();
    queues_.emplace(model, std::move(q));
    raw->worker = std::thread([this, raw] { Work(raw); });
    return absl::OkStatus();
  }

  // The batch size the worker of `model` forms at most; 0 for an unknown model.
  int max_batch_size(const std::string& model) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = queues_.find(model);
    return it == queues_.end() ? 0 : it->second->max_batch;
  }

  // Queues `item` for `model`. The future is always valid; errors arrive through it. An item
  // whose `deadline` passes before its batch starts is dropped with DEADLINE_EXCEEDED.
  std::future<BatchResult<Out>> Submit(const std::string& model, In item,
                                       std::optional<Clock::time_point> deadline = std::nullopt) {
    std::promise<BatchResult<Out>> promise;
    std::future<BatchResult<Out>> future = promise.get_future();
    Queue* q = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = queues_.find(model);
      if (it != queues_.end()) q = it->second.get();
    }
    if (q == nullptr) {
      Fail(promise, absl::NotFoundError("no batch queue for model '" + model + "'"));
      return future;
    }
    {
      std::lock_guard<std::mutex> lock(q->mu);
      if (q->stop) {
        Fail(promise, absl::UnavailableError("the batcher is shutting down"));
        return future;
      }
      if (static_cast<int>(q->pending.size()) >= options_.max_queue_size) {
        Fail(promise, absl::ResourceExhaustedError(absl::StrCat(
                          "the queue of model '", model, "' is full (", options_.max_queue_size,
                          " requests waiting); retry later or elsewhere")));
        return future;
      }
      q->pending.push_back(Pending{std::move(item), std::move(promise), Clock::now(), deadline});
      if (q->metrics.queue_depth)
        q->metrics.queue_depth->Set(static_cast<double>(q->pending.size()));
    }
    q->cv.notify_one();
    return future;
  }

  // Stops accepting items, fails every queued item with UNAVAILABLE, lets running batches
  // finish and joins the workers. Idempotent.
  void Shutdown() {
    std::vector<Queue*> queues;
    {
      std::lock_guard<std::mutex> lock(mu_);
      shut_down_ = true;
      for (auto& [name, q] : queues_) queues.push_back(q.get());
    }
    for (Queue* q : queues) {
      {
        std::lock_guard<std::mutex> lock(q->mu);
        q->stop = true;
      }
      q->cv.notify_all();
    }
    for (Queue* q : queues) {
      if (q->worker.joinable()) q->worker.join();
    }
  }

 private:
  struct Pending {
    In item;
    std::promise<BatchResult<Out>> promise;
    Clock::time_point enqueued;
    std::optional<Clock::time_point> deadline;
  };
  struct Queue {
    std::string name;
    BatchFn fn;
    int max_batch = 1;
    BatcherMetrics metrics;
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Pending> pending;
    bool stop = false;
    bool wait_for_company = true;  // see BatcherOptions::skip_delay_when_idle
    std::thread worker;
  };

  static void Fail(std::promise<BatchResult<Out>>& p, absl::Status status) {
    BatchResult<Out> r;
    r.value = std::move(status);
    p.set_value(std::move(r));
  }

  static double Ms(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
  }

  void Work(Queue* q) {
    for (;;) {
      std::vector<Pending> batch;
      {
        std::unique_lock<std::mutex> lock(q->mu);
        q->cv.wait(lock, [q] { return q->stop || !q->pending.empty(); });
        bool waited_alone = false;
        if (!q->stop) {
          if (q->pending.size() > 1) q->wait_for_company = true;
          if (q->wait_for_company || !options_.skip_delay_when_idle) {
            // The delay bound runs from the arrival of the oldest item: an item that already
            // waited while the previous batch ran does not wait again.
            const Clock::time_point until = q->pending.front().enqueued + options_.max_queue_delay;
            q->cv.wait_until(lock, until, [q] {
              return q->stop || static_cast<int>(q->pending.size()) >= q->max_batch;
            });
            waited_alone = q->pending.size() == 1;
          }
        }
        if (waited_alone && q->max_batch > 1) q->wait_for_company = false;
        if (q->stop) {
          std::deque<Pending> rest = std::move(q->pending);
          q->pending.clear();
          if (q->metrics.queue_depth) q->metrics.queue_depth->Set(0);
          lock.unlock();
          for (Pending& p : rest) {
            Fail(p.promise,
                 absl::UnavailableError("the detector is shutting down; the request did not run"));
          }
          return;
        }
        const Clock::time_point now = Clock::now();
        while (!q->pending.empty() && static_cast<int>(batch.size()) < q->max_batch) {
          Pending p = std::move(q->pending.front());
          q->pending.pop_front();
          if (p.deadline && *p.deadline <= now) {
            BatchResult<Out> r;
            r.value = absl::DeadlineExceededError(
                absl::StrCat("the deadline passed after ", static_cast<int>(Ms(now - p.enqueued)),
                             " ms in the queue of model '", q->name, "'; the request did not run"));
            r.info.queue_ms = Ms(now - p.enqueued);
            p.promise.set_value(std::move(r));
            continue;
          }
          batch.push_back(std::move(p));
        }
        if (q->metrics.queue_depth)
          q->metrics.queue_depth->Set(static_cast<double>(q->pending.size()));
      }
      if (!batch.empty()) RunBatch(q, batch);
    }
  }

  void RunBatch(Queue* q, std::vector<Pending>& batch) {
    const Clock::time_point start = Clock::now();
    std::vector<In> inputs;
    inputs.reserve(batch.size());
    for (Pending& p : batch) inputs.push_back(std::move(p.item));
    absl::StatusOr<std::vector<Out>> outputs = absl::InternalError("batch function did not run");
    try {
      outputs = q->fn(inputs);
    } catch (const std::exception& e) {
      outputs = absl::InternalError(absl::StrCat("model '", q->name, "': ", e.what()));
    } catch (...) {
      outputs = absl::InternalError(absl::StrCat("model '", q->name, "': unknown exception"));
    }
    const Clock::time_point end = Clock::now();
    if (outputs.ok() && outputs->size() != batch.size()) {
      outputs = absl::InternalError(absl::StrCat("model '", q->name,
                                                 "': the batch function returned ", outputs->size(),
                                                 " results for ", batch.size(), " inputs"));
    }
    if (q->metrics.batch_size) q->metrics.batch_size->Observe(static_cast<double>(batch.size()));
    if (q->metrics.inference_seconds) {
      q->metrics.inference_seconds->Observe(std::chrono::duration<double>(end - start).count());
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      BatchResult<Out> r;
      r.info.batch_size = static_cast<int>(batch.size());
      r.info.queue_ms = Ms(start - batch[i].enqueued);
      r.info.run_ms = Ms(end - start);
      if (outputs.ok()) {
        r.value = std::move((*outputs)[i]);
      } else {
        r.value = outputs.status();
      }
      batch[i].promise.set_value(std::move(r));
    }
  }

  const BatcherOptions options_;
  mutable std::mutex mu_;
  bool shut_down_ = false;
  std::map<std::string, std::unique_ptr<Queue>> queues_;
};

}  // namespace stratus::runtime

#endif  // STRATUS_RUNTIME_BATCHER_H_
