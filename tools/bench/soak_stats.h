// The bookkeeping of stratus-soak (tools/bench/soak.cc), apart so it can be tested: a latency
// histogram with log-spaced buckets, the `name=number,...` lists of --mix and --rate, and how
// --mix shares the clients out among the operations. Pure functions and a value type; nothing
// is shared between threads here.
#ifndef STRATUS_TOOLS_BENCH_SOAK_STATS_H_
#define STRATUS_TOOLS_BENCH_SOAK_STATS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace stratus::bench {

// Latencies in milliseconds, in buckets 2% wide from 10 us to ~76 s (faster values land in the
// first bucket, slower ones in the last): percentiles within ~1% of the exact ones at a fixed
// 6.4 KB, whatever the number of samples.
class LatencyHistogram {
 public:
  static constexpr double kBaseMs = 0.01;
  static constexpr double kRatio = 1.02;
  static constexpr int kBuckets = 800;

  void Add(double ms);
  void Merge(const LatencyHistogram& other);
  int64_t count() const { return total_; }
  // The geometric middle of the bucket holding the p-quantile (p in [0, 1]); 0 when empty.
  double Percentile(double p) const;

 private:
  std::array<int64_t, kBuckets> counts_{};
  int64_t total_ = 0;
};

// Parses `name=number,...` (entries trimmed, empty ones skipped) into one value per `names` entry
// (0 where not given; a later entry for the same name wins). INVALID_ARGUMENT naming `flag` and
// the bad entry for an unknown name or a value that is not a finite number >= 0.
absl::StatusOr<std::vector<double>> ParseNamedValues(const std::string& flag,
                                                     const std::string& text,
                                                     const std::vector<std::string>& names);

// The index of the operation of each of `clients` clients, grouped by operation: shares
// proportional to `weights` (largest remainders), and at least one client for every operation
// of positive weight as long as another operation has more than one. Empty when no weight is
// positive or clients < 1.
std::vector<int> AssignClients(const std::vector<double>& weights, int clients);

}  // namespace stratus::bench

#endif  // STRATUS_TOOLS_BENCH_SOAK_STATS_H_
