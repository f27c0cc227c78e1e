#include "training/metrics.h"

#include "absl/strings/str_format.h"

namespace stratus::training {

ClassMetrics::ClassMetrics(std::vector<std::string> labels)
    : labels_(std::move(labels)),
      confusion_(labels_.size(), std::vector<int64_t>(labels_.size(), 0)) {}

void ClassMetrics::Add(int truth, int predicted, double loss) {
  ++confusion_[truth][predicted];
  ++count_;
  if (truth == predicted) ++correct_;
  loss_sum_ += loss;
}

void ClassMetrics::Merge(const ClassMetrics& o) {
  for (size_t i = 0; i < confusion_.size(); ++i) {
    for (size_t j = 0; j < confusion_.size(); ++j) confusion_[i][j] += o.confusion_[i][j];
  }
  count_ += o.count_;
  correct_ += o.correct_;
  loss_sum_ += o.loss_sum_;
}

double ClassMetrics::accuracy() const {
  return count_ == 0 ? 0.0 : static_cast<double>(correct_) / count_;
}
double ClassMetrics::mean_loss() const { return count_ == 0 ? 0.0 : loss_sum_ / count_; }

double ClassMetrics::precision(int c) const {
  int64_t predicted = 0;
  for (size_t t = 0; t < confusion_.size(); ++t) predicted += confusion_[t][c];
  return predicted == 0 ? 0.0 : static_cast<double>(confusion_[c][c]) / predicted;
}

double ClassMetrics::recall(int c) const {
  int64_t actual = 0;
  for (int64_t v : confusion_[c]) actual += v;
  return actual == 0 ? 0.0 : static_cast<double>(confusion_[c][c]) / actual;
}

double ClassMetrics::macro_f1() const {
  double sum = 0;
  int n = 0;
  for (size_t c = 0; c < labels_.size(); ++c) {
    int64_t actual = 0;
    for (int64_t v : confusion_[c]) actual += v;
    if (actual == 0) continue;
    const double p = precision(static_cast<int>(c));
    const double r = recall(static_cast<int>(c));
    sum += (p + r) > 0 ? 2 * p * r / (p + r) : 0.0;
    ++n;
  }
  return n == 0 ? 0.0 : sum / n;
}

nlohmann::json ClassMetrics::ToJson() const {
  nlohmann::json j;
  j["count"] = count_;
  j["accuracy"] = accuracy();
  j["loss"] = mean_loss();
  j["macro_f1"] = macro_f1();
  j["labels"] = labels_;
  j["confusion"] = confusion_;
  j["correct"] = correct_;
  j["loss_sum"] = loss_sum_;
  for (size_t c = 0; c < labels_.size(); ++c) {
    j["per_class"][labels_[c]] = {{"precision", precision(static_cast<int>(c))},
                                  {"recall", recall(static_cast<int>(c))}};
  }
  return j;
}

ClassMetrics ClassMetrics::FromJson(const nlohmann::json& j) {
  ClassMetrics m(j.at("labels").get<std::vector<std::string>>());
  m.confusion_ = j.at("confusion").get<std::vector<std::vector<int64_t>>>();
  m.count_ = j.at("count").get<int64_t>();
  m.correct_ = j.at("correct").get<int64_t>();
  m.loss_sum_ = j.at("loss_sum").get<double>();
  return m;
}

std::string ClassMetrics::Summary() const {
  std::string s = absl::StrFormat("acc=%.4f loss=%.4f", accuracy(), mean_loss());
  for (size_t c = 0; c < labels_.size(); ++c) {
    s += absl::StrFormat(" %s(p=%.3f r=%.3f)", labels_[c], precision(static_cast<int>(c)),
                         recall(static_cast<int>(c)));
  }
  return s;
}

}  // namespace stratus::training
