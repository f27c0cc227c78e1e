// Prometheus metrics with an API shaped like prometheus-cpp's (Debian carries no prometheus-cpp):
//
//   Registry registry;
//   auto& requests = BuildCounter().Name("stratus_rpc_requests_total")
//                        .Help("RPCs handled.").Register(registry);
//   requests.Add({{"method", "Detect"}, {"code", "ok"}}).Increment();
//   auto& latency = BuildHistogram().Name("stratus_rpc_duration_seconds").Help("...")
//                       .Register(registry);
//   latency.Add({{"method", "Detect"}}, Histogram::LatencyBuckets()).Observe(0.004);
//   std::string text = registry.Serialize();  // text exposition format 0.0.4
//
// Thread safety: everything is safe to call concurrently. Families and metrics live as long as
// the registry; references returned by Register() and Add() stay valid.
#ifndef STRATUS_COMMON_METRICS_H_
#define STRATUS_COMMON_METRICS_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace stratus::metrics {

using Labels = std::map<std::string, std::string>;

class Counter {
 public:
  // `v` must be non-negative: counters only go up.
  void Increment(double v = 1.0);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Increment(double v = 1.0) { value_.fetch_add(v, std::memory_order_relaxed); }
  void Decrement(double v = 1.0) { value_.fetch_sub(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  using BucketBoundaries = std::vector<double>;
  // Upper bounds, ascending; +Inf is implicit.
  explicit Histogram(BucketBoundaries bounds);
  void Observe(double v);

  // 0.5 ms .. 10 s, for RPC and inference latencies in seconds.
  static BucketBoundaries LatencyBuckets();
  // 1, 2, 4, ... 64: batch sizes.
  static BucketBoundaries BatchBuckets();

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // one per bound, plus +Inf last
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Collect() const;

 private:
  BucketBoundaries bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; +Inf last
  double sum_ = 0;
};

enum class MetricType { kCounter, kGauge, kHistogram };

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type)
      : name_(std::move(name)), help_(std::move(help)), type_(type) {}
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  virtual void Serialize(std::string& out) const = 0;

 protected:
  std::string name_;
  std::string help_;
  MetricType type_;
};

template <typename T>
class Family : public FamilyBase {
 public:
  using FamilyBase::FamilyBase;
  // Returns the metric for these labels, creating it on first use. Histogram families take
  // their bucket boundaries on creation.
  template <typename... Args>
  T& Add(const Labels& labels, Args&&... args) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = metrics_.find(labels);
    if (it == metrics_.end()) {
      it = metrics_.emplace(labels, std::make_unique<T>(std::forward<Args>(args)...)).first;
    }
    return *it->second;
  }
  void Serialize(std::string& out) const override;

 private:
  mutable std::mutex mu_;
  std::map<Labels, std::unique_ptr<T>> metrics_;
};

class Registry {
 public:
  // Returns the existing family when one with the same name was registered before.
  template <typename T>
  Family<T>& Register(const std::string& name, const std::string& help, MetricType type);

  // Called at the start of each Serialize(), e.g. to refresh process metrics.
  void AddCollectHook(std::function<void()> hook);

  // The text exposition format 0.0.4.
  std::string Serialize() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
  std::vector<std::function<void()>> hooks_;
};

template <typename T>
Family<T>& Registry::Register(const std::string& name, const std::string& help,
                              MetricType type) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& f : families_) {
    if (f->name() == name) return *static_cast<Family<T>*>(f.get());
  }
  families_.push_back(std::make_unique<Family<T>>(name, help, type));
  return *static_cast<Family<T>*>(families_.back().get());
}

template <typename T, MetricType kType>
class Builder {
 public:
  Builder& Name(std::string n) {
    name_ = std::move(n);
    return *this;
  }
  Builder& Help(std::string h) {
    help_ = std::move(h);
    return *this;
  }
  Family<T>& Register(Registry& registry) { return registry.Register<T>(name_, help_, kType); }

 private:
  std::string name_;
  std::string help_;
};

inline Builder<Counter, MetricType::kCounter> BuildCounter() { return {}; }
inline Builder<Gauge, MetricType::kGauge> BuildGauge() { return {}; }
inline Builder<Histogram, MetricType::kHistogram> BuildHistogram() { return {}; }

// Adds process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds and
// process_start_time_seconds, refreshed on every scrape.
void RegisterProcessMetrics(Registry& registry);

}  // namespace stratus::metrics

#endif  // STRATUS_COMMON_METRICS_H_
