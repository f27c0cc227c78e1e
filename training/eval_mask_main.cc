// stratus-eval-mask: runs a trained mask classifier on the faces the imported face detector
// finds in photos (a check of the model on photos from other sources than its training set).
//
//   stratus-eval-mask [--models DIR] [--mask DIR] [--tight] IMAGE...
//
// --models: the model repository holding `faces` (default $STRATUS_MODEL_DIR or
// ~/.cache/stratus/models); --mask: the classifier folder (default MODELS/mask); faces are cut
// as the mask service cuts them (box grown by its margins), or as detected with --tight. Prints
// one line per face: image, box (pixels), label, probabilities.
#include <cstdio>
#include <cstdlib>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "runtime/face_pipeline.h"
#include "runtime/model.h"
#include "runtime/model_repository.h"

int main(int argc, char** argv) {
  std::string models, mask;
  bool tight = false;
  std::vector<std::string> images;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--tight") {
      tight = true;
    } else if (a == "--models" && i + 1 < argc) {
      models = argv[++i];
    } else if (a == "--mask" && i + 1 < argc) {
      mask = argv[++i];
    } else {
      images.push_back(a);
    }
  }
  if (images.empty()) {
    std::fprintf(stderr,
                 "usage: stratus-eval-mask [--models DIR] [--mask DIR] [--tight] IMAGE...\n");
    return 2;
  }
  if (models.empty()) {
    const char* m = std::getenv("STRATUS_MODEL_DIR");
    const char* home = std::getenv("HOME");
    models = m ? m : std::string(home ? home : ".") + "/.cache/stratus/models";
  }
  if (mask.empty()) mask = models + "/mask";
  namespace rt = stratus::runtime;
  rt::RuntimeOptions ro;
  ro.num_threads = 1;
  auto repo = rt::ModelRepository::Load(models, {"faces", "face_landmarks68"}, ro);
  if (!repo.ok()) {
    std::fprintf(stderr, "%s\n", std::string(repo.status().message()).c_str());
    return 1;
  }
  rt::FacePipeline::Options po;
  po.allow_missing_stages = true;
  auto pipeline = rt::FacePipeline::Create(**repo, po);
  auto classifier = rt::Model::Load(mask, ro);
  if (!pipeline.ok() || !classifier.ok()) {
    std::fprintf(stderr, "%s %s\n", std::string(pipeline.status().message()).c_str(),
                 std::string(classifier.status().message()).c_str());
    return 1;
  }
  const auto& labels = (*classifier)->config().labels;
  for (const auto& path : images) {
    cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
    if (bgr.empty()) {
      std::fprintf(stderr, "cannot read %s\n", path.c_str());
      return 1;
    }
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    rt::AnalyzeOptions ao;
    ao.landmarks = ao.descriptor = ao.age_gender = ao.expressions = ao.quality = false;
    auto faces = (*pipeline)->Analyze({rgb}, ao);
    if (!faces.ok()) {
      std::fprintf(stderr, "%s\n", std::string(faces.status().message()).c_str());
      return 1;
    }
    std::vector<cv::Mat> crops;
    std::vector<cv::Rect> boxes;
    for (const auto& f : (*faces)[0]) {
      // Grown by the mask service's margins (services/mask/mask.h) unless --tight.
      rt::PixelRect g = f.box_pixels;
      if (!tight) {
        g.x -= 0.18 * f.box_pixels.width;
        g.width += 0.36 * f.box_pixels.width;
        g.y -= 0.15 * f.box_pixels.height;
        g.height += 0.34 * f.box_pixels.height;
      }
      const cv::Rect r = rt::ClipAtImageBorders(g, rgb.cols, rgb.rows);
      if (r.width < 4 || r.height < 4) continue;
      crops.push_back(rgb(r));
      boxes.push_back(r);
    }
    auto preds = (*classifier)->Run(crops);
    if (!preds.ok()) {
      std::fprintf(stderr, "%s\n", std::string(preds.status().message()).c_str());
      return 1;
    }
    std::printf("%s: %zu faces\n", path.c_str(), crops.size());
    for (size_t i = 0; i < crops.size(); ++i) {
      const auto& p = (*preds)[i].probabilities;
      size_t best = 0;
      for (size_t k = 1; k < p.size(); ++k) best = p[k] > p[best] ? k : best;
      std::printf("  box %d,%d %dx%d  %-22s", boxes[i].x, boxes[i].y, boxes[i].width,
                  boxes[i].height, best < labels.size() ? labels[best].c_str() : "?");
      for (size_t k = 0; k < p.size() && k < labels.size(); ++k) {
        std::printf(" %s=%.3f", labels[k].c_str(), p[k]);
      }
      std::printf("\n");
    }
  }
  return 0;
}
