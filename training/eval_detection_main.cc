// stratus-eval-detection: COCO evaluation of the detection models of the repository (through
// runtime::ObjectDetector, the detector service's path) or of COCO results files (e.g. the
// JavaScript reference, training/eval_detection_reference.js).
//
//   stratus-eval-detection [--coco DIR] [--models DIR] [--model NAME]... [--results FILE]...
//                          [--min-confidence X] [--max-detections N] [--per-class]
//                          [--calibration] [--write-results FILE] [--limit N]
//
// --coco: a folder with images/ and instances.json (default: the shared development set
// detection/coco128-train2017). --model (repeatable, default `objects`): models to run;
// --results: COCO results files to score as well. Prints, per model or file, mAP@0.5,
// mAP@0.5:0.95 and mAP@0.75 (pycocotools' COCOeval, area all, 100 detections per image), with
// --per-class the AP of each class, with --calibration the reliability of the scores (what
// fraction of the detections at each score is right at IoU 0.5) and a logistic fit of it on the
// images with even ids, checked on the odd ones. Progress goes to stderr.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "common/flags.h"
#include "common/paths.h"
#include "runtime/model.h"
#include "runtime/model_repository.h"
#include "runtime/object_detector.h"
#include "training/detect_coco.h"
#include "training/detection_eval.h"

namespace {

namespace rt = stratus::runtime;
namespace tr = stratus::training;

void PrintCalibration(const tr::EvalResult& even, const tr::EvalResult& odd) {
  const tr::LogisticCalibration identity;
  const auto fit = tr::FitLogisticCalibration(even.matches);
  std::printf("  score scale (right = matched at IoU 0.5; %zu detections on odd image ids):\n",
              odd.matches.size());
  const auto raw = tr::Reliability(odd.matches, identity, 10);
  const auto cal = tr::Reliability(odd.matches, fit, 10);
  std::printf("    %-9s %8s %8s   | fit on even ids: %8s %8s\n", "score", "n", "right", "n",
              "right");
  for (size_t i = 0; i < raw.size(); ++i) {
    std::printf("    %.1f-%.1f   %8lld %8.3f   |                  %8lld %8.3f\n", raw[i].lo,
                raw[i].hi, static_cast<long long>(raw[i].count), raw[i].fraction_correct,
                static_cast<long long>(cal[i].count), cal[i].fraction_correct);
  }
  std::printf(
      "    expected calibration error: raw %.3f, fitted %.3f (a=%.4f b=%.4f: "
      "p = sigmoid(a*logit(score)+b))\n",
      tr::ExpectedCalibrationError(raw), tr::ExpectedCalibrationError(cal), fit.a, fit.b);
}

void Report(const std::string& what, const tr::CocoDataset& dataset,
            const std::vector<tr::CocoBox>& detections, int max_detections, bool per_class,
            bool calibration, const std::vector<int64_t>& image_ids) {
  tr::EvalOptions eo;
  eo.max_detections = max_detections;
  eo.image_ids = image_ids;
  const tr::EvalResult r = tr::EvaluateCoco(dataset, detections, eo);
  std::printf(
      "%s: mAP@0.5 %.4f  mAP@0.5:0.95 %.4f  mAP@0.75 %.4f  (%lld images, %zu classes, "
      "%zu detections)\n",
      what.c_str(), r.map50, r.map, r.map75, static_cast<long long>(r.images), r.classes.size(),
      detections.size());
  if (per_class) {
    std::printf("  %-16s %5s %6s %7s %7s %9s\n", "class", "gt", "dets", "AP50", "AP", "recall50");
    for (const tr::ClassAp& c : r.classes) {
      std::printf("  %-16s %5lld %6lld %7.4f %7.4f %9.4f\n", c.name.c_str(),
                  static_cast<long long>(c.ground_truth), static_cast<long long>(c.detections),
                  c.ap50, c.ap, c.recall50);
    }
  }
  if (calibration) {
    std::vector<int64_t> even, odd;
    for (const tr::CocoImage& im : dataset.images) {
      if (!image_ids.empty() &&
          std::find(image_ids.begin(), image_ids.end(), im.id) == image_ids.end()) {
        continue;
      }
      (im.id % 2 == 0 ? even : odd).push_back(im.id);
    }
    eo.image_ids = even;
    const tr::EvalResult re = tr::EvaluateCoco(dataset, detections, eo);
    eo.image_ids = odd;
    const tr::EvalResult ro = tr::EvaluateCoco(dataset, detections, eo);
    PrintCalibration(re, ro);
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string coco = (stratus::SharedDataDir() / "detection" / "coco128-train2017").string();
  std::string models;
  std::vector<std::string> model_names, results_files;
  std::string write_results;
  double min_confidence = 0.01;
  int max_detections = 100, limit = 0, threads = 0;
  bool per_class = false, calibration = false;
  stratus::FlagSet flags("stratus-eval-detection",
                         "COCO mAP of the repository's detection models or of COCO results.");
  flags.String("coco", "", &coco, "folder with images/ and instances.json");
  flags.String("models", "STRATUS_MODEL_DIR", &models,
               "model repository (default ~/.cache/stratus/models)");
  flags.StringList("model", "", &model_names, "model to evaluate (repeatable; default objects)");
  flags.StringList("results", "", &results_files, "COCO results JSON to score (repeatable)");
  flags.Double("min-confidence", "", &min_confidence,
               "lowest confidence kept (0..1, on the model's scale; low for mAP)");
  flags.Int("max-detections", "", &max_detections, "detections per image (COCO: 100)");
  flags.Bool("per-class", "", &per_class, "print the AP of each class");
  flags.Bool("calibration", "", &calibration, "print how right each score range is");
  flags.String("write-results", "", &write_results,
               "write the (last) model's detections as COCO results");
  flags.Int("limit", "", &limit, "evaluate only the first N images (0: all)");
  flags.Int("threads", "", &threads, "LibTorch threads (0: one per core)");
  if (auto s = flags.Parse(argc, argv); !s.ok() || flags.help_requested()) {
    if (!s.ok()) std::fprintf(stderr, "error: %s\n", std::string(s.message()).c_str());
    std::fprintf(stderr, "%s", flags.Usage().c_str());
    return s.ok() ? 0 : 2;
  }
  if (models.empty()) {
    const char* home = std::getenv("HOME");
    models = std::string(home ? home : ".") + "/.cache/stratus/models";
  }
  if (model_names.empty() && results_files.empty()) model_names = {"objects"};

  auto dataset = tr::LoadCocoInstances(coco + "/instances.json");
  if (!dataset.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(dataset.status().message()).c_str());
    return 1;
  }
  std::vector<int64_t> image_ids;
  if (limit > 0) {
    for (const tr::CocoImage& im : dataset->images) {
      if (static_cast<int>(image_ids.size()) < limit) image_ids.push_back(im.id);
    }
  }
  int64_t counted = 0;
  for (const tr::CocoBox& b : dataset->annotations) counted += b.iscrowd ? 0 : 1;
  std::printf("%s: %zu images, %zu boxes (%lld not crowd), %zu categories\n", coco.c_str(),
              dataset->images.size(), dataset->annotations.size(), static_cast<long long>(counted),
              dataset->categories.size());

  for (const std::string& file : results_files) {
    auto results = tr::LoadCocoResults(file);
    if (!results.ok()) {
      std::fprintf(stderr, "error: %s\n", std::string(results.status().message()).c_str());
      return 1;
    }
    Report(file, *dataset, *results, max_detections, per_class, calibration, image_ids);
  }
  if (model_names.empty()) return 0;

  rt::RuntimeOptions ro;
  ro.num_threads = threads;
  auto repo = rt::ModelRepository::Load(models, model_names, ro);
  if (!repo.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(repo.status().message()).c_str());
    return 1;
  }
  int rc = 0;
  for (const std::string& name : model_names) {
    auto detector = rt::ObjectDetector::Create(**repo, name);
    if (!detector.ok()) {
      std::fprintf(stderr, "error: %s\n", std::string(detector.status().message()).c_str());
      rc = 1;
      continue;
    }
    const auto start = std::chrono::steady_clock::now();
    tr::DetectCocoOptions o;
    o.image_dir = coco + "/images";
    o.min_confidence = static_cast<float>(min_confidence);
    o.max_results = max_detections;
    o.image_ids = image_ids;
    o.progress = [&](int64_t done, int64_t all) {
      if (done % 16 != 0 && done != all) return;
      const double s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "%s: %lld/%lld images, %.0f s, about %.0f s left\n", name.c_str(),
                   static_cast<long long>(done), static_cast<long long>(all), s,
                   s / static_cast<double>(done) * static_cast<double>(all - done));
    };
    auto detections = tr::DetectCoco(**detector, *dataset, o);
    if (!detections.ok()) {
      std::fprintf(stderr, "error: %s\n", std::string(detections.status().message()).c_str());
      rc = 1;
      continue;
    }
    const rt::Model& m = (*detector)->model();
    Report(absl::StrFormat("%s (%s, %s, %dx%d)", name, m.config().version, m.config().decoder_type,
                           m.config().input.width, m.config().input.height),
           *dataset, *detections, max_detections, per_class, calibration, image_ids);
    if (!write_results.empty()) {
      if (auto s = tr::WriteCocoResults(write_results, *detections); !s.ok()) {
        std::fprintf(stderr, "error: %s\n", std::string(s.message()).c_str());
        rc = 1;
      }
    }
  }
  return rc;
}
