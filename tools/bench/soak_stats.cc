#include "tools/bench/soak_stats.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace stratus::bench {

void LatencyHistogram::Add(double ms) {
  int b = ms <= kBaseMs ? 0 : static_cast<int>(std::log(ms / kBaseMs) / std::log(kRatio));
  counts_[std::clamp(b, 0, kBuckets - 1)]++;
  total_++;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
}

double LatencyHistogram::Percentile(double p) const {
  if (total_ == 0) return 0;
  const int64_t rank = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(p * total_)), 1, total_);
  int64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return kBaseMs * std::pow(kRatio, i + 0.5);
  }
  return kBaseMs * std::pow(kRatio, kBuckets - 0.5);  // not reached: the counts sum to total_
}

absl::StatusOr<std::vector<double>> ParseNamedValues(const std::string& flag,
                                                     const std::string& text,
                                                     const std::vector<std::string>& names) {
  std::vector<double> values(names.size(), 0);
  for (absl::string_view entry : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    std::pair<std::string, std::string> kv = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    auto it = std::find(names.begin(), names.end(), kv.first);
    double v = 0;
    if (it == names.end() || !absl::SimpleAtod(kv.second, &v) || v < 0 || !std::isfinite(v)) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, ": bad entry \"", entry,
                                                     "\" (name=number, names ",
                                                     absl::StrJoin(names, ", "), ")"));
    }
    values[it - names.begin()] = v;
  }
  return values;
}

std::vector<int> AssignClients(const std::vector<double>& weights, int clients) {
  const int n = static_cast<int>(weights.size());
  double sum = 0;
  for (double w : weights) sum += std::max(w, 0.0);
  if (sum <= 0 || clients < 1) return {};
  std::vector<int> count(n, 0);
  std::vector<std::pair<double, int>> remainders;  // (fraction, -index): ties to the first
  int given = 0;
  for (int op = 0; op < n; ++op) {
    const double exact = std::max(weights[op], 0.0) / sum * clients;
    count[op] = static_cast<int>(exact);
    given += count[op];
    if (weights[op] > 0) remainders.push_back({exact - count[op], -op});
  }
  std::sort(remainders.rbegin(), remainders.rend());
  for (size_t i = 0; given < clients; ++i, ++given) {
    count[-remainders[i % remainders.size()].second]++;
  }
  for (int op = 0; op < n; ++op) {
    if (weights[op] <= 0 || count[op] > 0) continue;
    auto largest = std::max_element(count.begin(), count.end());
    if (*largest <= 1) break;
    --*largest;
    count[op] = 1;
  }
  std::vector<int> ops;
  for (int op = 0; op < n; ++op) ops.insert(ops.end(), count[op], op);
  return ops;
}

}  // namespace stratus::bench
