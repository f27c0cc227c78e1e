// Floors of the imported COCO detectors on a fixed subset of the development set
// (detection/coco128-train2017, the first kImages images by id), through runtime::ObjectDetector:
// mAP@0.5 at least the JavaScript reference's (human's own decoding in TF.js, measured with
// training/eval_detection_reference.js on the same images), and `objects`' confidences on the
// scale runtime/MODELS.md documents. Skips without the models or the data, unless
// STRATUS_REQUIRE_MODELS=1, when it fails.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/paths.h"
#include "gtest/gtest.h"
#include "runtime/model.h"
#include "runtime/model_repository.h"
#include "runtime/object_detector.h"
#include "training/detect_coco.h"
#include "training/detection_eval.h"

namespace stratus::training {
namespace {

namespace fs = std::filesystem;
namespace rt = stratus::runtime;

constexpr size_t kImages = 32;

bool RequireModels() {
  const char* v = std::getenv("STRATUS_REQUIRE_MODELS");
  return v != nullptr && std::string(v) == "1";
}

std::string ModelDir() {
  if (const char* d = std::getenv("STRATUS_MODEL_DIR"); d != nullptr && *d != '\0') return d;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.cache/stratus/models";
}

fs::path Coco() { return SharedDataDir() / "detection" / "coco128-train2017"; }

class DetectionFloorTest : public ::testing::Test {
 protected:
  // The subset's detections by `model` (computed once per model for the whole suite), or
  // nothing with `missing_` set.
  void Run(const std::string& model) {
    static std::map<std::string, std::pair<CocoDataset, std::vector<CocoBox>>>* cache =
        new std::map<std::string, std::pair<CocoDataset, std::vector<CocoBox>>>();
    if (auto it = cache->find(model); it != cache->end()) {
      dataset_ = it->second.first;
      detections_ = it->second.second;
      ids_ = FirstIds(dataset_);
      return;
    }
    RunUncached(model);
    if (missing_.empty() && !HasFatalFailure()) (*cache)[model] = {dataset_, detections_};
  }

  static std::vector<int64_t> FirstIds(const CocoDataset& d) {
    std::vector<int64_t> ids;
    for (const CocoImage& im : d.images) ids.push_back(im.id);
    std::sort(ids.begin(), ids.end());
    ids.resize(std::min(ids.size(), kImages));
    return ids;
  }

  void RunUncached(const std::string& model) {
    std::error_code ec;
    if (!fs::exists(fs::path(ModelDir()) / model / "model.pt", ec) ||
        !fs::exists(Coco() / "instances.json", ec)) {
      missing_ = model + " in " + ModelDir() + " or " + Coco().string();
      return;
    }
    auto dataset = LoadCocoInstances((Coco() / "instances.json").string());
    ASSERT_TRUE(dataset.ok()) << dataset.status();
    dataset_ = *dataset;
    ids_ = FirstIds(dataset_);
    rt::RuntimeOptions ro;
    ro.device = "cpu";
    auto repo = rt::ModelRepository::Load(ModelDir(), {model}, ro);
    ASSERT_TRUE(repo.ok()) << repo.status();
    repo_ = std::move(*repo);
    auto detector = rt::ObjectDetector::Create(*repo_, model);
    ASSERT_TRUE(detector.ok()) << detector.status();
    detector_ = std::move(*detector);
    DetectCocoOptions o;
    o.image_dir = (Coco() / "images").string();
    o.image_ids = ids_;
    auto dets = DetectCoco(*detector_, dataset_, o);
    ASSERT_TRUE(dets.ok()) << dets.status();
    detections_ = *dets;
  }

  bool Skip() {
    if (missing_.empty()) return false;
    if (RequireModels()) ADD_FAILURE() << "STRATUS_REQUIRE_MODELS=1 but missing " << missing_;
    return true;
  }

  EvalResult Evaluate() const {
    EvalOptions eo;
    eo.image_ids = ids_;
    return EvaluateCoco(dataset_, detections_, eo);
  }

  std::string missing_;
  CocoDataset dataset_;
  std::vector<int64_t> ids_;
  std::unique_ptr<rt::ModelRepository> repo_;
  std::unique_ptr<rt::ObjectDetector> detector_;
  std::vector<CocoBox> detections_;
};

TEST_F(DetectionFloorTest, ObjectsReachesItsJavaScriptReference) {
  Run("objects");
  if (Skip()) GTEST_SKIP() << "missing " << missing_;
  const EvalResult r = Evaluate();
  std::printf("objects on %zu images: mAP@0.5 %.4f mAP@0.5:0.95 %.4f\n", ids_.size(), r.map50,
              r.map);
  // centernet in TF.js with human's decoding (min confidence 0.01, 100 detections) on these
  // images: mAP@0.5 0.5085, mAP@0.5:0.95 0.3444 (on all 128: 0.4780 and 0.3059, Stratus 0.4774
  // and 0.3049); the floors leave 0.01 for the JPEG decoders and human's 2-decimal scores.
  EXPECT_GE(r.map50, 0.50);
  EXPECT_GE(r.map, 0.335);
}

TEST_F(DetectionFloorTest, ObjectsConfidenceReadsAsAProbability) {
  Run("objects");
  if (Skip()) GTEST_SKIP() << "missing " << missing_;
  const EvalResult r = Evaluate();
  // Of the detections at 0.5 or more, at least half are right (IoU 0.5 with a box of their
  // class); of those under 0.2, fewer than half.
  int64_t high = 0, high_right = 0, low = 0, low_right = 0;
  for (const ScoredMatch& m : r.matches) {
    if (m.score >= 0.5) {
      ++high;
      high_right += m.correct ? 1 : 0;
    } else if (m.score < 0.2) {
      ++low;
      low_right += m.correct ? 1 : 0;
    }
  }
  ASSERT_GT(high, 20);
  ASSERT_GT(low, 20);
  EXPECT_GE(static_cast<double>(high_right) / static_cast<double>(high), 0.5);
  EXPECT_LT(static_cast<double>(low_right) / static_cast<double>(low), 0.5);
}

// The sample video (people walking one at a time through a room; someone is in view in about
// three frames out of four) at the threshold a stream uses by default (0.5, ingest's
// min_confidence): people are reported in many frames.
TEST_F(DetectionFloorTest, ObjectsFindsThePeopleInTheSampleVideoAtTheStreamDefault) {
  const fs::path video = SharedDataDir() / "video" / "people-walking.mp4";
  std::error_code ec;
  if (!fs::exists(fs::path(ModelDir()) / "objects" / "model.pt", ec) || !fs::exists(video, ec)) {
    if (RequireModels()) ADD_FAILURE() << "STRATUS_REQUIRE_MODELS=1 but no objects or video";
    GTEST_SKIP() << "no objects model or sample video";
  }
  rt::RuntimeOptions ro;
  ro.device = "cpu";
  auto repo = rt::ModelRepository::Load(ModelDir(), {"objects"}, ro);
  ASSERT_TRUE(repo.ok()) << repo.status();
  auto detector = rt::ObjectDetector::Create(**repo, "objects");
  ASSERT_TRUE(detector.ok()) << detector.status();
  cv::VideoCapture cap(video.string(), cv::CAP_FFMPEG);
  ASSERT_TRUE(cap.isOpened()) << video;
  rt::DetectOptions o;
  o.min_confidence = 0.5f;
  o.classes = {"person"};
  int frames = 0, with_person = 0;
  cv::Mat bgr;
  for (int i = 0; cap.read(bgr); ++i) {
    if (i % 50 != 25) continue;  // one frame every 5 s (10 fps)
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    auto got = (*detector)->Detect({rgb}, o);
    ASSERT_TRUE(got.ok()) << got.status();
    ++frames;
    with_person += (*got)[0].empty() ? 0 : 1;
  }
  std::printf("person at >= 0.5 in %d of %d frames\n", with_person, frames);
  ASSERT_GE(frames, 25);
  // Measured: 14 of 28 (someone is in view in about 20 of them; people seen from behind or
  // half out of the frame score lower). A stream reports each walker in several frames.
  EXPECT_GE(with_person, frames * 4 / 10);
}

TEST_F(DetectionFloorTest, NanodetReachesItsJavaScriptReference) {
  Run("nanodet");
  if (Skip()) GTEST_SKIP() << "missing " << missing_;
  const EvalResult r = Evaluate();
  std::printf("nanodet on %zu images: mAP@0.5 %.4f mAP@0.5:0.95 %.4f\n", ids_.size(), r.map50,
              r.map);
  // nanodet in TF.js with human's decoding (min confidence 0.01, 100 detections) on these
  // images: mAP@0.5 0.2576 (its boxes are coarse; the runtime's gfl decoding is better).
  EXPECT_GE(r.map50, 0.2576);
}

}  // namespace
}  // namespace stratus::training
