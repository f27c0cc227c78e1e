#include "training/detection_eval.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <numeric>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace stratus::training {
namespace {

using nlohmann::json;

absl::StatusOr<json> ReadJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  try {
    return json::parse(in);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
}

absl::StatusOr<CocoBox> BoxFromJson(const json& j, bool result) {
  CocoBox b;
  const json& box = j.at("bbox");
  if (!box.is_array() || box.size() != 4) {
    return absl::InvalidArgumentError("bbox must be [x, y, w, h]");
  }
  b.image_id = j.at("image_id").get<int64_t>();
  b.category_id = j.at("category_id").get<int>();
  b.x = box[0].get<double>();
  b.y = box[1].get<double>();
  b.w = box[2].get<double>();
  b.h = box[3].get<double>();
  if (result) {
    b.score = j.at("score").get<double>();
  } else {
    b.iscrowd = j.value("iscrowd", 0) != 0;
  }
  return b;
}

// pycocotools' bbIou: IoU of a detection d with a ground-truth box g; intersection over the
// detection's area when g is a crowd box.
double BoxIou(const CocoBox& d, const CocoBox& g) {
  const double w = std::min(d.x + d.w, g.x + g.w) - std::max(d.x, g.x);
  if (w <= 0) return 0;
  const double h = std::min(d.y + d.h, g.y + g.h) - std::max(d.y, g.y);
  if (h <= 0) return 0;
  const double inter = w * h;
  const double u = g.iscrowd ? d.w * d.h : d.w * d.h + g.w * g.h - inter;
  return u > 0 ? inter / u : 0;
}

constexpr int kIouSteps = 10;
constexpr int kRecallSteps = 101;

// One image and class, as COCOeval.evaluateImg leaves it.
struct ImageClassEval {
  std::vector<double> scores;  // detections by decreasing score
  std::vector<std::array<bool, kIouSteps>> matched, ignored;
  int64_t ground_truth = 0;  // not ignored
};

ImageClassEval EvaluateImageClass(std::vector<const CocoBox*> gt, std::vector<const CocoBox*> dt,
                                  const std::array<double, kIouSteps>& thresholds,
                                  int max_detections) {
  // Non-ignored (non-crowd) ground truth first, stable.
  std::stable_sort(gt.begin(), gt.end(),
                   [](const CocoBox* a, const CocoBox* b) { return !a->iscrowd && b->iscrowd; });
  std::stable_sort(dt.begin(), dt.end(),
                   [](const CocoBox* a, const CocoBox* b) { return a->score > b->score; });
  if (max_detections > 0 && static_cast<int>(dt.size()) > max_detections) {
    dt.resize(static_cast<size_t>(max_detections));
  }
  ImageClassEval e;
  for (const CocoBox* g : gt) e.ground_truth += g->iscrowd ? 0 : 1;
  std::vector<std::vector<double>> ious(dt.size(), std::vector<double>(gt.size()));
  for (size_t d = 0; d < dt.size(); ++d) {
    for (size_t g = 0; g < gt.size(); ++g) ious[d][g] = BoxIou(*dt[d], *gt[g]);
  }
  e.scores.resize(dt.size());
  e.matched.assign(dt.size(), {});
  e.ignored.assign(dt.size(), {});
  for (size_t d = 0; d < dt.size(); ++d) e.scores[d] = dt[d]->score;
  for (int t = 0; t < kIouSteps; ++t) {
    std::vector<bool> gt_taken(gt.size(), false);
    for (size_t d = 0; d < dt.size(); ++d) {
      double best = std::min(thresholds[static_cast<size_t>(t)], 1 - 1e-10);
      int m = -1;
      for (size_t g = 0; g < gt.size(); ++g) {
        if (gt_taken[g] && !gt[g]->iscrowd) continue;
        // Past the non-ignored boxes with a match in hand: stop.
        if (m > -1 && !gt[static_cast<size_t>(m)]->iscrowd && gt[g]->iscrowd) break;
        if (ious[d][g] < best) continue;
        best = ious[d][g];
        m = static_cast<int>(g);
      }
      if (m == -1) continue;
      e.matched[d][static_cast<size_t>(t)] = true;
      e.ignored[d][static_cast<size_t>(t)] = gt[static_cast<size_t>(m)]->iscrowd;
      gt_taken[static_cast<size_t>(m)] = true;
    }
  }
  return e;
}

}  // namespace

int CocoDataset::CategoryId(const std::string& name) const {
  for (const auto& [id, n] : categories) {
    if (n == name) return id;
  }
  return -1;
}

absl::StatusOr<CocoDataset> LoadCocoInstances(const std::string& path) {
  auto j = ReadJson(path);
  if (!j.ok()) return j.status();
  CocoDataset d;
  try {
    for (const json& im : j->at("images")) {
      CocoImage i;
      i.id = im.at("id").get<int64_t>();
      i.file_name = im.at("file_name").get<std::string>();
      i.width = im.value("width", 0);
      i.height = im.value("height", 0);
      d.images.push_back(std::move(i));
    }
    for (const json& c : j->at("categories")) {
      d.categories[c.at("id").get<int>()] = c.at("name").get<std::string>();
    }
    for (const json& a : j->at("annotations")) {
      auto b = BoxFromJson(a, /*result=*/false);
      if (!b.ok())
        return absl::InvalidArgumentError(absl::StrCat(path, ": ", b.status().message()));
      d.annotations.push_back(*b);
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
  return d;
}

absl::StatusOr<std::vector<CocoBox>> LoadCocoResults(const std::string& path) {
  auto j = ReadJson(path);
  if (!j.ok()) return j.status();
  if (!j->is_array()) return absl::InvalidArgumentError(absl::StrCat(path, ": not an array"));
  std::vector<CocoBox> out;
  try {
    for (const json& r : *j) {
      auto b = BoxFromJson(r, /*result=*/true);
      if (!b.ok())
        return absl::InvalidArgumentError(absl::StrCat(path, ": ", b.status().message()));
      out.push_back(*b);
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
  return out;
}

absl::Status WriteCocoResults(const std::string& path, const std::vector<CocoBox>& results) {
  json a = json::array();
  for (const CocoBox& b : results) {
    a.push_back({{"image_id", b.image_id},
                 {"category_id", b.category_id},
                 {"bbox", {b.x, b.y, b.w, b.h}},
                 {"score", b.score}});
  }
  std::ofstream out(path);
  out << a.dump();
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

EvalResult EvaluateCoco(const CocoDataset& dataset, const std::vector<CocoBox>& detections,
                        const EvalOptions& options) {
  std::array<double, kIouSteps> thresholds;
  const double step = (0.95 - 0.5) / (kIouSteps - 1);  // np.linspace(.5, .95, 10)
  for (int t = 0; t < kIouSteps; ++t) thresholds[static_cast<size_t>(t)] = 0.5 + t * step;

  std::set<int64_t> images;
  if (options.image_ids.empty()) {
    for (const CocoImage& im : dataset.images) images.insert(im.id);
  } else {
    images.insert(options.image_ids.begin(), options.image_ids.end());
  }
  // (category, image) -> boxes, images in increasing id order as COCOeval walks them.
  std::map<int,
           std::map<int64_t, std::pair<std::vector<const CocoBox*>, std::vector<const CocoBox*>>>>
      cells;
  for (const CocoBox& g : dataset.annotations) {
    if (images.count(g.image_id)) cells[g.category_id][g.image_id].first.push_back(&g);
  }
  for (const CocoBox& d : detections) {
    if (images.count(d.image_id)) cells[d.category_id][d.image_id].second.push_back(&d);
  }

  EvalResult result;
  result.images = static_cast<int64_t>(images.size());
  for (const auto& [category, per_image] : cells) {
    struct Row {
      double score;
      std::array<bool, kIouSteps> matched, ignored;
    };
    std::vector<Row> rows;
    int64_t ground_truth = 0;
    for (const auto& [image, boxes] : per_image) {
      ImageClassEval e =
          EvaluateImageClass(boxes.first, boxes.second, thresholds, options.max_detections);
      ground_truth += e.ground_truth;
      for (size_t d = 0; d < e.scores.size(); ++d) {
        rows.push_back(Row{e.scores[d], e.matched[d], e.ignored[d]});
      }
    }
    if (ground_truth == 0) continue;  // COCOeval leaves such classes out of the mean
    std::stable_sort(rows.begin(), rows.end(),
                     [](const Row& a, const Row& b) { return a.score > b.score; });
    ClassAp c;
    c.category_id = category;
    auto name = dataset.categories.find(category);
    c.name = name == dataset.categories.end() ? std::to_string(category) : name->second;
    c.ground_truth = ground_truth;
    c.detections = static_cast<int64_t>(rows.size());
    double ap_sum = 0;
    for (int t = 0; t < kIouSteps; ++t) {
      const size_t ti = static_cast<size_t>(t);
      std::vector<double> recall, precision;
      double tp = 0, fp = 0;
      for (const Row& r : rows) {
        if (r.ignored[ti]) continue;
        (r.matched[ti] ? tp : fp) += 1;
        recall.push_back(tp / static_cast<double>(ground_truth));
        precision.push_back(tp / (tp + fp + 2.220446049250313e-16));
        if (t == 0) result.matches.push_back(ScoredMatch{r.score, r.matched[ti]});
      }
      for (size_t i = precision.size(); i-- > 1;) {
        precision[i - 1] = std::max(precision[i - 1], precision[i]);
      }
      double q_sum = 0;
      for (int k = 0; k < kRecallSteps; ++k) {
        const double thr = k * 0.01;  // np.linspace(0, 1, 101)
        const size_t p = static_cast<size_t>(std::lower_bound(recall.begin(), recall.end(), thr) -
                                             recall.begin());
        if (p >= precision.size()) break;
        q_sum += precision[p];
      }
      const double ap = q_sum / kRecallSteps;
      ap_sum += ap;
      if (t == 0) {
        c.ap50 = ap;
        c.recall50 = recall.empty() ? 0 : recall.back();
      }
      if (t == 5) c.ap75 = ap;
    }
    c.ap = ap_sum / kIouSteps;
    result.classes.push_back(c);
  }
  if (!result.classes.empty()) {
    for (const ClassAp& c : result.classes) {
      result.map50 += c.ap50;
      result.map75 += c.ap75;
      result.map += c.ap;
    }
    const double n = static_cast<double>(result.classes.size());
    result.map50 /= n;
    result.map75 /= n;
    result.map /= n;
  }
  return result;
}

namespace {
double Logit(double s) {
  s = std::clamp(s, 1e-6, 1 - 1e-6);
  return std::log(s / (1 - s));
}
double Sigmoid(double z) { return 1 / (1 + std::exp(-z)); }
}  // namespace

double LogisticCalibration::Apply(double score) const { return Sigmoid(a * Logit(score) + b); }

LogisticCalibration FitLogisticCalibration(const std::vector<ScoredMatch>& matches) {
  LogisticCalibration c;
  if (matches.empty()) return c;
  for (int iter = 0; iter < 50; ++iter) {
    // Gradient and Hessian of the negative log-likelihood (tiny ridge keeps it invertible).
    double ga = 0, gb = 0, haa = 1e-6, hab = 0, hbb = 1e-6;
    for (const ScoredMatch& m : matches) {
      const double z = Logit(m.score);
      const double p = Sigmoid(c.a * z + c.b);
      const double r = p - (m.correct ? 1 : 0);
      const double w = p * (1 - p);
      ga += r * z;
      gb += r;
      haa += w * z * z;
      hab += w * z;
      hbb += w;
    }
    const double det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    const double da = (hbb * ga - hab * gb) / det;
    const double db = (haa * gb - hab * ga) / det;
    c.a -= da;
    c.b -= db;
    if (std::abs(da) + std::abs(db) < 1e-10) break;
  }
  return c;
}

std::vector<ReliabilityBin> Reliability(const std::vector<ScoredMatch>& matches,
                                        const LogisticCalibration& calibration, int bins) {
  std::vector<ReliabilityBin> out(static_cast<size_t>(std::max(bins, 1)));
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].lo = static_cast<double>(i) / static_cast<double>(out.size());
    out[i].hi = static_cast<double>(i + 1) / static_cast<double>(out.size());
  }
  for (const ScoredMatch& m : matches) {
    const double p = calibration.Apply(m.score);
    size_t i = static_cast<size_t>(p * static_cast<double>(out.size()));
    i = std::min(i, out.size() - 1);
    out[i].count += 1;
    out[i].mean_predicted += p;
    out[i].fraction_correct += m.correct ? 1 : 0;
  }
  for (ReliabilityBin& b : out) {
    if (b.count == 0) continue;
    b.mean_predicted /= static_cast<double>(b.count);
    b.fraction_correct /= static_cast<double>(b.count);
  }
  return out;
}

double ExpectedCalibrationError(const std::vector<ReliabilityBin>& bins) {
  double err = 0;
  int64_t n = 0;
  for (const ReliabilityBin& b : bins) {
    err += static_cast<double>(b.count) * std::abs(b.mean_predicted - b.fraction_correct);
    n += b.count;
  }
  return n > 0 ? err / static_cast<double>(n) : 0;
}

}  // namespace stratus::training
