// stratus-eval-mask: a trained mask classifier on photos from other sources than its training
// set, through the imported face detector and the mask service's crop (training/mask_eval.h).
//
//   stratus-eval-mask [--models DIR] [--mask DIR] [--tight] [--sample N]
//                     [--labelled DIR]... [--heldout DATA/masks] [IMAGE...]
//
// --models: the model repository holding `faces` (default $STRATUS_MODEL_DIR or
// ~/.cache/stratus/models); --mask: the classifier folder (default MODELS/mask); --tight: the
// detector's box without the service's margins; --sample N: every N-th photo of each class.
// --labelled DIR: photos in class folders (with_mask|correct, without_mask,
// mask_worn_incorrectly|incorrect), e.g. ../shared/data/masks-maskedfacenet; --heldout: the
// test split of ../shared/data/masks that stratus-prepare-masks keeps out of training. Each set
// prints its three-class accuracy, face-covered accuracy, per-class recall and precision and
// the confusion matrix (each photo counts its most confident face). IMAGE...: one line per
// face found: crop, label, probabilities.
#include <cstdio>
#include <cstdlib>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "training/mask_eval.h"

int main(int argc, char** argv) {
  namespace tr = stratus::training;
  tr::MaskEvalOptions options;
  int sample = 1;
  std::vector<std::string> labelled, images;
  std::string heldout;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--tight") {
      options.tight = true;
    } else if (a == "--models" && i + 1 < argc) {
      options.model_dir = argv[++i];
    } else if (a == "--mask" && i + 1 < argc) {
      options.mask_dir = argv[++i];
    } else if (a == "--sample" && i + 1 < argc) {
      sample = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--labelled" && i + 1 < argc) {
      labelled.push_back(argv[++i]);
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
                 "usage: stratus-eval-mask [--models DIR] [--mask DIR] [--tight] [--sample N] "
                 "[--labelled DIR]... [--heldout DATA/masks] [IMAGE...]\n");
    return 2;
  }
  if (options.model_dir.empty()) {
    const char* m = std::getenv("STRATUS_MODEL_DIR");
    const char* home = std::getenv("HOME");
    options.model_dir = m ? m : std::string(home ? home : ".") + "/.cache/stratus/models";
  }
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
    auto r = (*eval)->Evaluate(*photos);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return false;
    }
    std::printf("%s\n", r->Format(title).c_str());
    std::fflush(stdout);
    return true;
  };
  for (const std::string& dir : labelled) {
    if (!report(dir, tr::ListLabelledPhotos(dir, sample))) return 1;
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
    auto faces = (*eval)->ClassifyFaces(bgr, 100);
    if (!faces.ok()) {
      std::fprintf(stderr, "%s: %s\n", path.c_str(), faces.status().ToString().c_str());
      return 1;
    }
    std::printf("%s: %zu faces\n", path.c_str(), (*faces)[0].face_found ? faces->size() : 0);
    for (const tr::PhotoPrediction& p : *faces) {
      std::printf("  %s %d,%d %dx%d  %-22s", p.face_found ? "face" : "whole photo", p.crop.x,
                  p.crop.y, p.crop.width, p.crop.height, tr::kMaskClassNames[p.predicted]);
      for (int k = 0; k < 3; ++k) {
        std::printf(" %s=%.3f", tr::kMaskClassNames[k], p.probabilities[k]);
      }
      std::printf("\n");
    }
  }
  return 0;
}
