#include "training/detection_eval.h"

#include <cmath>
#include <cstdio>
#include <fstream>

#include "gtest/gtest.h"

namespace stratus::training {
namespace {

CocoBox Gt(int64_t image, int category, double x, double y, double w, double h,
           bool crowd = false) {
  CocoBox b;
  b.image_id = image;
  b.category_id = category;
  b.x = x, b.y = y, b.w = w, b.h = h;
  b.iscrowd = crowd;
  return b;
}

CocoBox Dt(int64_t image, int category, double x, double y, double w, double h, double score) {
  CocoBox b = Gt(image, category, x, y, w, h);
  b.score = score;
  return b;
}

CocoDataset TwoImages() {
  CocoDataset d;
  d.images = {{1, "a.jpg", 100, 100}, {2, "b.jpg", 100, 100}};
  d.categories = {{1, "person"}, {3, "car"}, {5, "bus"}};
  return d;
}

TEST(DetectionEvalTest, PerfectDetectionIsApOne) {
  CocoDataset d = TwoImages();
  d.annotations = {Gt(1, 1, 10, 10, 20, 40)};
  const EvalResult r = EvaluateCoco(d, {Dt(1, 1, 10, 10, 20, 40, 0.9)}, {});
  ASSERT_EQ(r.classes.size(), 1u);
  EXPECT_DOUBLE_EQ(r.map50, 1.0);
  EXPECT_DOUBLE_EQ(r.map, 1.0);
  EXPECT_EQ(r.images, 2);
}

TEST(DetectionEvalTest, FalsePositiveAboveTheHitHalvesPrecision) {
  CocoDataset d = TwoImages();
  d.annotations = {Gt(1, 1, 10, 10, 20, 40)};
  const EvalResult r =
      EvaluateCoco(d, {Dt(2, 1, 50, 50, 10, 10, 0.9), Dt(1, 1, 10, 10, 20, 40, 0.5)}, {});
  // Recall 1 is reached at precision 1/2, so every one of the 101 recall points reads 0.5.
  EXPECT_NEAR(r.map50, 0.5, 1e-12);
  ASSERT_EQ(r.matches.size(), 2u);
  EXPECT_FALSE(r.matches[0].correct);
  EXPECT_TRUE(r.matches[1].correct);
}

TEST(DetectionEvalTest, ApIntegratesOverTheIouThresholds) {
  CocoDataset d = TwoImages();
  d.annotations = {Gt(1, 3, 0, 0, 100, 10)};
  // IoU 0.62: right at 0.50, 0.55 and 0.60, wrong from 0.65 on.
  const EvalResult r = EvaluateCoco(d, {Dt(1, 3, 0, 0, 62, 10, 0.8)}, {});
  EXPECT_DOUBLE_EQ(r.map50, 1.0);
  EXPECT_DOUBLE_EQ(r.map75, 0.0);
  EXPECT_NEAR(r.map, 0.3, 1e-12);
}

TEST(DetectionEvalTest, HalfTheBoxesFoundGivesTheFirstHalfOfTheRecallPoints) {
  CocoDataset d = TwoImages();
  d.annotations = {Gt(1, 1, 0, 0, 10, 10), Gt(2, 1, 0, 0, 10, 10)};
  const EvalResult r = EvaluateCoco(d, {Dt(1, 1, 0, 0, 10, 10, 0.7)}, {});
  EXPECT_NEAR(r.map50, 51.0 / 101.0, 1e-12);  // recall points 0.00 .. 0.50
  EXPECT_DOUBLE_EQ(r.classes[0].recall50, 0.5);
}

TEST(DetectionEvalTest, CrowdMatchesAreIgnoredAndClassesWithoutTruthLeftOut) {
  CocoDataset d = TwoImages();
  d.annotations = {Gt(1, 1, 0, 0, 10, 10), Gt(1, 1, 50, 50, 50, 50, /*crowd=*/true)};
  const EvalResult r = EvaluateCoco(
      d,
      {Dt(1, 1, 60, 60, 10, 10, 0.95),                             // inside the crowd box
       Dt(1, 1, 0, 0, 10, 10, 0.9), Dt(2, 5, 0, 0, 10, 10, 0.9)},  // a class with no truth
      {});
  ASSERT_EQ(r.classes.size(), 1u);
  EXPECT_EQ(r.classes[0].ground_truth, 1);
  EXPECT_DOUBLE_EQ(r.map50, 1.0);
  EXPECT_EQ(r.matches.size(), 1u);  // the crowd match is not a scored detection
}

TEST(DetectionEvalTest, MaxDetectionsCutsPerImageAndClassByScore) {
  CocoDataset d = TwoImages();
  d.annotations = {Gt(1, 1, 0, 0, 10, 10)};
  std::vector<CocoBox> dets = {Dt(1, 1, 50, 50, 10, 10, 0.9), Dt(1, 1, 0, 0, 10, 10, 0.1)};
  EvalOptions o;
  o.max_detections = 1;
  EXPECT_DOUBLE_EQ(EvaluateCoco(d, dets, o).map50, 0.0);
  o.max_detections = 2;
  EXPECT_NEAR(EvaluateCoco(d, dets, o).map50, 0.5, 1e-12);
}

TEST(DetectionEvalTest, ImageSubset) {
  CocoDataset d = TwoImages();
  d.annotations = {Gt(1, 1, 0, 0, 10, 10), Gt(2, 1, 0, 0, 10, 10)};
  EvalOptions o;
  o.image_ids = {1};
  const EvalResult r = EvaluateCoco(d, {Dt(1, 1, 0, 0, 10, 10, 0.7)}, o);
  EXPECT_DOUBLE_EQ(r.map50, 1.0);
  EXPECT_EQ(r.images, 1);
}

TEST(DetectionEvalTest, LogisticCalibrationRecoversAKnownScale) {
  // Detections right with probability sigmoid(2 * logit(s) - 1).
  std::vector<ScoredMatch> m;
  for (int i = 1; i < 200; ++i) {
    const double s = i / 200.0;
    const double z = 2 * std::log(s / (1 - s)) - 1;
    const double p = 1 / (1 + std::exp(-z));
    const int right = static_cast<int>(std::lround(p * 100));
    for (int k = 0; k < 100; ++k) m.push_back({s, k < right});
  }
  const LogisticCalibration c = FitLogisticCalibration(m);
  EXPECT_NEAR(c.a, 2.0, 0.05);
  EXPECT_NEAR(c.b, -1.0, 0.05);
  const auto bins = Reliability(m, c, 10);
  EXPECT_LT(ExpectedCalibrationError(bins), 0.01);
  EXPECT_GT(ExpectedCalibrationError(Reliability(m, LogisticCalibration{}, 10)), 0.05);
}

TEST(DetectionEvalTest, ResultsRoundTripAndInstancesParse) {
  const std::string dir = ::testing::TempDir();
  const std::string results = dir + "/results.json";
  ASSERT_TRUE(WriteCocoResults(results, {Dt(7, 3, 1.5, 2, 3, 4, 0.25)}).ok());
  auto back = LoadCocoResults(results);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].image_id, 7);
  EXPECT_EQ((*back)[0].category_id, 3);
  EXPECT_DOUBLE_EQ((*back)[0].x, 1.5);
  EXPECT_DOUBLE_EQ((*back)[0].score, 0.25);

  const std::string instances = dir + "/instances.json";
  std::ofstream(instances) << R"({"images": [{"id": 7, "file_name": "x.jpg", "width": 4,
      "height": 3}], "categories": [{"id": 3, "name": "car"}],
      "annotations": [{"image_id": 7, "category_id": 3, "bbox": [0, 0, 2, 2], "iscrowd": 1}]})";
  auto d = LoadCocoInstances(instances);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->CategoryId("car"), 3);
  EXPECT_EQ(d->CategoryId("bus"), -1);
  ASSERT_EQ(d->annotations.size(), 1u);
  EXPECT_TRUE(d->annotations[0].iscrowd);

  std::ofstream(instances) << R"({"images": []})";
  EXPECT_FALSE(LoadCocoInstances(instances).ok());
  EXPECT_FALSE(LoadCocoResults(dir + "/missing.json").ok());
}

}  // namespace
}  // namespace stratus::training
