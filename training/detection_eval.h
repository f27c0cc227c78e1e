// COCO-style evaluation of an object detector (torch-free): COCO instances files in, COCO
// results (detections) in and out, and the metrics of pycocotools' COCOeval for bounding boxes
// (area "all", at most `max_detections` per image and class): AP averaged over the 101 recall
// points at IoU 0.50, 0.75 and 0.50:0.05:0.95, per class and as the mean over the classes that
// have ground truth. Crowd boxes (iscrowd) are matched as COCOeval matches them (IoU against a
// crowd box is intersection / detection area; a detection matching one is ignored).
//
// Also the calibration view of the scores: for each detection kept by the evaluation, whether
// it matched a ground-truth box at IoU >= 0.5 (its "precision label"), so that a score can be
// read as the probability that a detection is right.
#ifndef STRATUS_TRAINING_DETECTION_EVAL_H_
#define STRATUS_TRAINING_DETECTION_EVAL_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace stratus::training {

struct CocoImage {
  int64_t id = 0;
  std::string file_name;
  int width = 0;
  int height = 0;
};

struct CocoBox {
  int64_t image_id = 0;
  int category_id = 0;
  double x = 0, y = 0, w = 0, h = 0;  // pixels, top-left corner and size
  double score = 1;                   // detections only
  bool iscrowd = false;               // ground truth only
};

struct CocoDataset {
  std::vector<CocoImage> images;
  std::map<int, std::string> categories;  // id -> name
  std::vector<CocoBox> annotations;

  // The category id for a name; -1 if none.
  int CategoryId(const std::string& name) const;
};

// Reads a COCO instances file (images, categories, annotations with bbox and iscrowd).
// InvalidArgument naming the file on malformed JSON or missing keys.
absl::StatusOr<CocoDataset> LoadCocoInstances(const std::string& path);

// COCO results: a JSON array of {image_id, category_id, bbox: [x, y, w, h], score}.
absl::StatusOr<std::vector<CocoBox>> LoadCocoResults(const std::string& path);
absl::Status WriteCocoResults(const std::string& path, const std::vector<CocoBox>& results);

struct EvalOptions {
  int max_detections = 100;  // per image and class, after sorting by score (COCOeval maxDets)
  // Evaluate only these images (empty: every image of the dataset).
  std::vector<int64_t> image_ids;
};

struct ClassAp {
  int category_id = 0;
  std::string name;
  int64_t ground_truth = 0;  // boxes that count (not crowd)
  int64_t detections = 0;
  double ap50 = 0, ap75 = 0, ap = 0;  // ap: mean over IoU 0.50:0.05:0.95
  double recall50 = 0;                // at IoU 0.5, with every detection
};

// A detection the evaluation kept, with its label at IoU 0.5.
struct ScoredMatch {
  double score = 0;
  bool correct = false;  // matched a (non-crowd) ground-truth box of its class at IoU >= 0.5
};

struct EvalResult {
  double map50 = 0, map75 = 0, map = 0;  // means over `classes` (classes with ground truth)
  std::vector<ClassAp> classes;          // by category id; only classes with ground truth
  int64_t images = 0;
  std::vector<ScoredMatch> matches;  // detections not ignored (crowd matches are ignored)
};

EvalResult EvaluateCoco(const CocoDataset& dataset, const std::vector<CocoBox>& detections,
                        const EvalOptions& options);

// A two-parameter logistic calibration of scores: p = sigmoid(a * logit(score) + b), fitted
// by maximum likelihood (Newton's method) on `matches`. Scores are clamped to [1e-6, 1 - 1e-6].
struct LogisticCalibration {
  double a = 1, b = 0;
  double Apply(double score) const;
};
LogisticCalibration FitLogisticCalibration(const std::vector<ScoredMatch>& matches);

// Expected calibration error: the detections in `bins` equal-width bins of `p(score)`, the
// mean over bins (weighted by count) of |mean p - fraction correct|.
struct ReliabilityBin {
  double lo = 0, hi = 0;
  int64_t count = 0;
  double mean_predicted = 0, fraction_correct = 0;
};
std::vector<ReliabilityBin> Reliability(const std::vector<ScoredMatch>& matches,
                                        const LogisticCalibration& calibration, int bins);
double ExpectedCalibrationError(const std::vector<ReliabilityBin>& bins);

}  // namespace stratus::training

#endif  // STRATUS_TRAINING_DETECTION_EVAL_H_
