// stratus-eval-mask: a trained mask classifier on photos from other sources than its training
// set, through the imported face detector and the mask service's crop (training/mask_eval.h).
//
//   stratus-eval-mask [--models DIR] [--mask DIR]... [--tight] [--sample N]
//                     [--part all|train|val|test] [--labelled DIR]... [--heldout DATA/masks]
//                     [IMAGE...]
//
// --models: the model repository holding `faces` (default $STRATUS_MODEL_DIR or
// ~/.cache/stratus/models); --mask: a classifier folder (default MODELS/mask), repeatable: each
// is evaluated on the same crops; --tight: the detector's box without the service's margins;
// --sample N: every N-th photo of each class.
// --labelled DIR: photos in class folders (with_mask|correct, without_mask,
// mask_worn_incorrectly|incorrect), e.g. ../shared/data/masks-maskedfacenet; --part: only the
// photos of the --labelled sets that follow it in that part (DevSetSplitOf: train 40%, val 20%,
// test 40%; default all); --heldout: the test split of ../shared/data/masks that
// stratus-prepare-masks keeps out of training. Each set prints, per classifier, its three-class
// accuracy, face-covered accuracy, per-class recall and precision and the confusion matrix (each
// photo counts its most confident face). IMAGE...: one line per face found and classifier: crop,
// label, probabilities.
#include <cstdio>
#include <cstdlib>
#include <opencv2/imgcodecs.hpp>
#include <optional>
#include <string>
#include <vector>

#include "training/mask_eval.h"

int main(int argc, char** argv) {
  namespace tr = stratus::training;
  tr::MaskEvalOptions options;
  int sample = 1;
  std::optional<tr::MaskSplit> part;
  std::string part_name = "all";
  struct LabelledSet {
    std::string dir, part_name;
    std::optional<tr::MaskSplit> part;
  };
  std::vector<LabelledSet> labelled;
  std::vector<std::string> images;
  std::string heldout;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--tight") {
      options.tight = true;
    } else if (a == "--models" && i + 1 < argc) {
      options.model_dir = argv[++i];
    } else if (a == "--mask" && i + 1 < argc) {
      options.mask_dirs.push_back(argv[++i]);
    } else if (a == "--part" && i + 1 < argc) {
      part_name = argv[++i];
      if (part_name == "train") {
        part = tr::MaskSplit::kTrain;
      } else if (part_name == "val") {
        part = tr::MaskSplit::kValidation;
      } else if (part_name == "test") {
        part = tr::MaskSplit::kTest;
      } else if (part_name == "all") {
        part.reset();
      } else {
        images.clear();
        labelled.clear();
        heldout.clear();
        break;
      }
    } else if (a == "--sample" && i + 1 < argc) {
      sample = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--labelled" && i + 1 < argc) {
      labelled.push_back({argv[++i], part_name, part});
    } else if (a == "--heldout" && i + 1 < argc) {
      heldout = argv[++i];
    } else if (!a.empty() && a[0] == '-') {
      images.clear();
      labelled.clear();
      heldout.clear();
      break;
    } else {
      images.push_back(a);
    }
  }
  if (images.empty() && labelled.empty() && heldout.empty()) {
    std::fprintf(stderr,
                 "usage: stratus-eval-mask [--models DIR] [--mask DIR]... [--tight] [--sample N] "
                 "[--part all|train|val|test] [--labelled DIR]... [--heldout DATA/masks] "
                 "[IMAGE...]\n");
    return 2;
  }
  if (options.model_dir.empty()) {
    const char* m = std::getenv("STRATUS_MODEL_DIR");
    const char* home = std::getenv("HOME");
    options.model_dir = m ? m : std::string(home ? home : ".") + "/.cache/stratus/models";
  }
  if (options.mask_dirs.empty()) options.mask_dirs.push_back(options.model_dir + "/mask");
  auto eval = tr::MaskEvaluator::Create(options);
  if (!eval.ok()) {
    std::fprintf(stderr, "%s\n", eval.status().ToString().c_str());
    return 1;
  }
  auto report = [&](const std::string& title,
                    const absl::StatusOr<std::vector<tr::LabelledPhoto>>& photos) {
    if (!photos.ok()) {
      std::fprintf(stderr, "%s\n", photos.status().ToString().c_str());
      return false;
    }
    auto r = (*eval)->EvaluateEach(*photos);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return false;
    }
    for (size_t k = 0; k < r->size(); ++k) {
      std::printf("%s\n", (*r)[k].Format(title + ", " + options.mask_dirs[k]).c_str());
    }
    std::fflush(stdout);
    return true;
  };
  for (const LabelledSet& set : labelled) {
    if (!report(set.dir + " (part " + set.part_name + ")",
                tr::ListLabelledPhotos(set.dir, sample, set.part))) {
      return 1;
    }
  }
  if (!heldout.empty() &&
      !report(heldout + " (test split)", tr::ListHeldOutMaskPhotos(heldout, sample))) {
    return 1;
  }
  for (const std::string& path : images) {
    const cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
    if (bgr.empty()) {
      std::fprintf(stderr, "cannot read %s\n", path.c_str());
      return 1;
    }
    for (size_t c = 0; c < (*eval)->classifiers(); ++c) {
      auto faces = (*eval)->ClassifyFaces(bgr, 100, c);
      if (!faces.ok()) {
        std::fprintf(stderr, "%s: %s\n", path.c_str(), faces.status().ToString().c_str());
        return 1;
      }
      std::printf("%s, %s: %zu faces\n", path.c_str(), options.mask_dirs[c].c_str(),
                  (*faces)[0].face_found ? faces->size() : 0);
      for (const tr::PhotoPrediction& p : *faces) {
        std::printf("  %s %d,%d %dx%d  %-22s", p.face_found ? "face" : "whole photo", p.crop.x,
                    p.crop.y, p.crop.width, p.crop.height, tr::kMaskClassNames[p.predicted]);
        for (int k = 0; k < 3; ++k) {
          std::printf(" %s=%.3f", tr::kMaskClassNames[k], p.probabilities[k]);
        }
        std::printf("\n");
      }
    }
  }
  return 0;
}
