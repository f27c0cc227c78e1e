// Classification metrics (torch-free): accuracy, per-class precision and recall, confusion
// matrix, mean loss; JSON for report.json and a one-line summary for logs.
#ifndef STRATUS_TRAINING_METRICS_H_
#define STRATUS_TRAINING_METRICS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace stratus::training {

class ClassMetrics {
 public:
  explicit ClassMetrics(std::vector<std::string> labels);
  void Add(int truth, int predicted, double loss);
  void Merge(const ClassMetrics& other);

  int64_t count() const { return count_; }
  double accuracy() const;
  double mean_loss() const;
  double precision(int c) const;  // 0 when nothing was predicted as c
  double recall(int c) const;     // 0 when c never occurs
  double macro_f1() const;
  // confusion()[truth][predicted]
  const std::vector<std::vector<int64_t>>& confusion() const { return confusion_; }
  const std::vector<std::string>& labels() const { return labels_; }

  nlohmann::json ToJson() const;
  static ClassMetrics FromJson(const nlohmann::json& j);
  std::string Summary() const;  // "acc=0.912 loss=0.231 recall[a]=... "

 private:
  std::vector<std::string> labels_;
  std::vector<std::vector<int64_t>> confusion_;
  int64_t count_ = 0;
  int64_t correct_ = 0;
  double loss_sum_ = 0;
};

}  // namespace stratus::training

#endif  // STRATUS_TRAINING_METRICS_H_
