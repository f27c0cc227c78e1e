// Hermetic tests of the centernet decoder (and of score_calibration, which wraps any detection
// decoder) on hand-made outputs; detection_floor_test runs the imported model on COCO images.
#include "runtime/decoders/centernet.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/decoder.h"

namespace stratus::runtime {
namespace {

DecoderContext Context(const std::string& extra = "") {
  DecoderContext c;
  c.model_name = "objects";
  c.type = "centernet";
  c.params = YAML::Load("{type: centernet" + extra + "}");
  c.labels = {"person", "bicycle", "car"};
  c.input_width = c.input_height = 512;
  return c;
}

InputGeometry Stretch(int w, int h) {
  InputGeometry g;
  g.image_width = w;
  g.image_height = h;
  g.input_width = g.input_height = 512;
  g.scale_x = 512.0 / w;
  g.scale_y = 512.0 / h;
  return g;
}

// The three outputs of the imported model (wh, keypoints, detections) for one image; the
// detections rows given, the rest of K = 4 rows at score 0.
std::vector<OutputTensor> Outputs(const std::vector<std::vector<float>>& rows, int batch = 1) {
  OutputTensor wh{{batch, 2, 2, 4}, std::vector<float>(batch * 16, 0.f)};
  OutputTensor hm{{batch, 2, 2, 3}, std::vector<float>(batch * 12, 0.f)};
  OutputTensor det{{batch, 4, 6}, std::vector<float>(batch * 24, 0.f)};
  for (int b = 0; b < batch; ++b)
    for (size_t r = 0; r < rows.size(); ++r)
      for (int k = 0; k < 6; ++k) det.data[b * 24 + r * 6 + k] = rows[r][k];
  return {wh, hm, det};
}

TEST(CenternetDecoderTest, RowsAboveThresholdMappedToImageFractions) {
  auto d = CreateDecoder(Context());
  ASSERT_TRUE(d.ok()) << d.status();
  auto out = Outputs({{128, 0, 384, 256, 0.9f, 2}, {0, 0, 10, 10, 0.1f, 0}});
  ASSERT_TRUE((*d)->CheckOutputs(out, 1).ok());
  const InputGeometry g = Stretch(1024, 512);
  auto p = (*d)->Decode(out, {&g, 1}, {});
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ((*p)[0].detections.size(), 1u);  // 0.1 is under the default 0.2
  const Detection& det = (*p)[0].detections[0];
  EXPECT_EQ(det.label, "car");
  EXPECT_FLOAT_EQ(det.confidence, 0.9f);
  EXPECT_FLOAT_EQ(det.box.left, 0.25f);
  EXPECT_FLOAT_EQ(det.box.top, 0.f);
  EXPECT_FLOAT_EQ(det.box.width, 0.5f);
  EXPECT_FLOAT_EQ(det.box.height, 0.5f);
}

TEST(CenternetDecoderTest, ClassAgnosticNmsByDefaultPerClassOnRequest) {
  auto rows = std::vector<std::vector<float>>{{0, 0, 100, 100, 0.9f, 0},
                                              {0, 0, 100, 90, 0.8f, 1},  // IoU 0.9 with the first
                                              {300, 300, 400, 400, 0.7f, 0},
                                              {300, 300, 400, 400, 0.6f, 0}};
  const InputGeometry g = Stretch(512, 512);
  auto agnostic = CreateDecoder(Context());
  auto per_class = CreateDecoder(Context(", class_agnostic: false"));
  auto none = CreateDecoder(Context(", nms: false"));
  ASSERT_TRUE(agnostic.ok() && per_class.ok() && none.ok());
  EXPECT_EQ((*(*agnostic)->Decode(Outputs(rows), {&g, 1}, {}))[0].detections.size(), 2u);
  EXPECT_EQ((*(*per_class)->Decode(Outputs(rows), {&g, 1}, {}))[0].detections.size(), 3u);
  auto all = (*(*none)->Decode(Outputs(rows), {&g, 1}, {}))[0].detections;
  ASSERT_EQ(all.size(), 4u);
  EXPECT_FLOAT_EQ(all[3].confidence, 0.6f);
}

TEST(CenternetDecoderTest, OptionsAndBatch) {
  auto d = CreateDecoder(Context());
  ASSERT_TRUE(d.ok());
  auto out = Outputs(
      {{0, 0, 100, 100, 0.9f, 0}, {200, 200, 300, 300, 0.5f, 2}, {400, 400, 500, 500, 0.3f, 2}},
      /*batch=*/2);
  const InputGeometry g[2] = {Stretch(512, 512), Stretch(256, 256)};
  DecodeOptions o;
  o.classes = {2};
  o.min_confidence = 0.4f;
  auto p = (*d)->Decode(out, {g, 2}, o);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->size(), 2u);
  for (const auto& pred : *p) {
    ASSERT_EQ(pred.detections.size(), 1u);
    EXPECT_EQ(pred.detections[0].label, "car");
  }
  o = {};
  o.max_results = 1;
  EXPECT_EQ((*(*d)->Decode(out, {g, 2}, o))[1].detections.size(), 1u);
}

TEST(CenternetDecoderTest, BadOutputsAndKeys) {
  auto d = CreateDecoder(Context());
  ASSERT_TRUE(d.ok());
  std::vector<OutputTensor> wrong = {{{1, 100, 5}, std::vector<float>(500, 0.f)}};
  const absl::Status s = (*d)->CheckOutputs(wrong, 1);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("[1,100,5]"), std::string::npos) << s;
  EXPECT_FALSE(CreateDecoder(Context(", score_threshold: 2")).ok());
  EXPECT_FALSE(CreateDecoder(Context(", nms: maybe")).ok());
}

TEST(ScoreCalibrationTest, ConfidencesAndThresholdsOnTheCalibratedScale) {
  // p = sigmoid(2 * logit(raw) + 1): raw 0.5 -> 0.731, raw 0.2 -> 0.1.
  auto d = CreateDecoder(Context(", score_threshold: 0.5, score_calibration: {a: 2, b: 1}"));
  ASSERT_TRUE(d.ok()) << d.status();
  auto out = Outputs({{0, 0, 100, 100, 0.5f, 0}, {200, 200, 300, 300, 0.2f, 1}});
  const InputGeometry g = Stretch(512, 512);
  auto p = (*d)->Decode(out, {&g, 1}, {});
  ASSERT_TRUE(p.ok());
  ASSERT_EQ((*p)[0].detections.size(), 1u);  // calibrated 0.1 < 0.5
  EXPECT_NEAR((*p)[0].detections[0].confidence, 1 / (1 + std::exp(-1.0)), 1e-6);
  DecodeOptions o;
  o.min_confidence = 0.05f;
  p = (*d)->Decode(out, {&g, 1}, o);
  ASSERT_EQ((*p)[0].detections.size(), 2u);
  const float raw = 0.2f;
  const double z = 2 * std::log(raw / (1 - raw)) + 1;
  EXPECT_NEAR((*p)[0].detections[1].confidence, 1 / (1 + std::exp(-z)), 1e-6);
  EXPECT_FALSE(CreateDecoder(Context(", score_calibration: {a: -1, b: 0}")).ok());
  EXPECT_FALSE(CreateDecoder(Context(", score_calibration: 3")).ok());
}

}  // namespace
}  // namespace stratus::runtime
