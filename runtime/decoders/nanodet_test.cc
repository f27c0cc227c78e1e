// Hermetic tests of the nanodet decoder on hand-made outputs (the golden test in
// tools/import/graph runs it on the real model's outputs).
#include "runtime/decoders/nanodet.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/decoder.h"

namespace stratus::runtime {
namespace {

constexpr int kClasses = 3;
constexpr int kBins = 11;  // reg_max 10

DecoderContext Context(const std::string& extra = "") {
  DecoderContext c;
  c.model_name = "objects";
  c.type = "nanodet";
  c.params = YAML::Load("{type: nanodet, strides: [8, 16, 32], reg_max: 10" + extra + "}");
  c.labels = {"person", "bicycle", "car"};
  c.input_width = c.input_height = 64;  // grids 8x8, 4x4, 2x2
  return c;
}

InputGeometry Stretch(int w, int h) {
  InputGeometry g;
  g.image_width = w;
  g.image_height = h;
  g.input_width = g.input_height = 64;
  g.scale_x = 64.0 / w;
  g.scale_y = 64.0 / h;
  return g;
}

// Six outputs, all scores 0.01 and flat distributions.
std::vector<OutputTensor> Outputs(int batch = 1) {
  std::vector<OutputTensor> out;
  for (int n : {64, 16, 4})
    out.push_back({{batch, n, kClasses}, std::vector<float>(batch * n * kClasses, 0.01f)});
  for (int n : {64, 16, 4})
    out.push_back({{batch, n, 4 * kBins}, std::vector<float>(batch * n * 4 * kBins, 0.f)});
  return out;
}

// Puts a peaked distribution (all mass on `bin`) for every side of a cell.
void SetSides(OutputTensor& reg, int cell, const int bins[4]) {
  for (int side = 0; side < 4; ++side)
    for (int k = 0; k < kBins; ++k)
      reg.data[cell * 4 * kBins + side * kBins + k] = k == bins[side] ? 30.f : 0.f;
}

TEST(NanodetDecoderTest, GflBoxFromDistributionsAndStride) {
  auto d = CreateNanodetDecoder(Context());
  ASSERT_TRUE(d.ok()) << d.status();
  auto out = Outputs();
  // Stride 16 level (4x4), cell row 1 col 2: centre (2.5 * 16, 1.5 * 16) = (40, 24).
  const int cell = 1 * 4 + 2;
  out[1].data[cell * kClasses + 2] = 0.9f;  // car
  const int bins[4] = {1, 1, 1, 2};         // l, t, r, b distances 16, 16, 16, 32
  SetSides(out[4], cell, bins);
  ASSERT_TRUE((*d)->CheckOutputs(out, 1).ok());
  auto p = (*d)->Decode(out, {Stretch(640, 320)}, {});
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ((*p)[0].detections.size(), 1u);
  const Detection& det = (*p)[0].detections[0];
  EXPECT_EQ(det.label, "car");
  EXPECT_FLOAT_EQ(det.confidence, 0.9f);
  // Box (24, 8)-(56, 56) in the 64x64 input: fractions of the stretched image.
  EXPECT_NEAR(det.box.left, 24.0 / 64, 1e-4);
  EXPECT_NEAR(det.box.top, 8.0 / 64, 1e-4);
  EXPECT_NEAR(det.box.width, 32.0 / 64, 1e-4);
  EXPECT_NEAR(det.box.height, 48.0 / 64, 1e-4);
}

TEST(NanodetDecoderTest, ExpectationOfASplitDistribution) {
  auto d = CreateNanodetDecoder(Context());
  ASSERT_TRUE(d.ok());
  auto out = Outputs();
  out[2].data[0 * kClasses + 0] = 0.8f;  // stride 32, cell 0: centre (16, 16)
  // Left side: equal logits on bins 0 and 1 -> expectation 0.5 bins = 16 px.
  for (int k = 0; k < kBins; ++k) out[5].data[k] = (k <= 1) ? 20.f : -20.f;
  auto p = (*d)->Decode(out, {Stretch(64, 64)}, {});
  ASSERT_TRUE(p.ok());
  ASSERT_EQ((*p)[0].detections.size(), 1u);
  // Other sides flat: expectation 5 bins = 160 px, clipped to the input.
  EXPECT_NEAR((*p)[0].detections[0].box.left, 0.0, 1e-4);   // 16 - 16
  EXPECT_NEAR((*p)[0].detections[0].box.width, 1.0, 1e-4);  // 0 .. min(16 + 160, 64)
  // Top: flat over 11 bins -> 5 bins = 160 px from 16: clipped to 0 as well.
  EXPECT_NEAR((*p)[0].detections[0].box.top, 0.0, 1e-4);
}

TEST(NanodetDecoderTest, PerClassNmsThresholdsAndFilters) {
  auto d = CreateNanodetDecoder(Context(", iou_threshold: 0.5"));
  ASSERT_TRUE(d.ok());
  auto out = Outputs();
  const int bins[4] = {3, 3, 3, 3};
  // Two neighbouring stride-8 cells, 48x48 boxes 8 px apart: IoU 1920 / 2688 = 0.71.
  for (int cell : {9, 10}) SetSides(out[3], cell, bins);
  out[0].data[9 * kClasses + 0] = 0.7f;   // person
  out[0].data[10 * kClasses + 0] = 0.6f;  // person, overlapping: suppressed
  out[0].data[10 * kClasses + 1] = 0.5f;  // bicycle at the same place: other class, kept
  auto p = (*d)->Decode(out, {Stretch(64, 64)}, {});
  ASSERT_TRUE(p.ok());
  ASSERT_EQ((*p)[0].detections.size(), 2u);
  EXPECT_EQ((*p)[0].detections[0].label, "person");
  EXPECT_EQ((*p)[0].detections[1].label, "bicycle");

  DecodeOptions o;
  o.min_confidence = 0.55f;
  p = (*d)->Decode(out, {Stretch(64, 64)}, o);
  ASSERT_EQ((*p)[0].detections.size(), 1u);
  o = {};
  o.classes = {1};
  p = (*d)->Decode(out, {Stretch(64, 64)}, o);
  ASSERT_EQ((*p)[0].detections.size(), 1u);
  EXPECT_EQ((*p)[0].detections[0].label, "bicycle");
  o = {};
  o.max_results = 1;
  p = (*d)->Decode(out, {Stretch(64, 64)}, o);
  EXPECT_EQ((*p)[0].detections.size(), 1u);
}

TEST(NanodetDecoderTest, ConcatenatedOutputAndBatches) {
  auto d = CreateNanodetDecoder(Context());
  ASSERT_TRUE(d.ok());
  const int cells = 64 + 16 + 4, row = kClasses + 4 * kBins;
  OutputTensor t{{2, cells, row}, std::vector<float>(2 * cells * row, 0.f)};
  // Image 1 only: stride 32 level, cell 3 (row 1, col 1): centre (48, 48), all sides 1 bin.
  const int cell = 64 + 16 + 3;
  float* r = t.data.data() + (cells + cell) * row;
  r[0] = 0.9f;
  for (int side = 0; side < 4; ++side) r[kClasses + side * kBins + 1] = 30.f;
  ASSERT_TRUE((*d)->CheckOutputs({t}, 2).ok());
  auto p = (*d)->Decode({t}, {Stretch(64, 64), Stretch(64, 64)}, {});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE((*p)[0].detections.empty());
  ASSERT_EQ((*p)[1].detections.size(), 1u);
  EXPECT_NEAR((*p)[1].detections[0].box.left, 16.0 / 64, 1e-4);
  EXPECT_NEAR((*p)[1].detections[0].box.width, 64.0 / 64 - 16.0 / 64, 1e-4);
}

TEST(NanodetDecoderTest, RejectsUnexpectedShapesAndKeys) {
  auto d = CreateNanodetDecoder(Context());
  ASSERT_TRUE(d.ok());
  auto out = Outputs();
  out[4].shape = {1, 15, 4 * kBins};
  absl::Status s = (*d)->CheckOutputs(out, 1);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("model 'objects'"), std::string::npos) << s;
  EXPECT_FALSE((*d)->CheckOutputs(Outputs(), 2).ok());  // batch mismatch
  EXPECT_FALSE(CreateNanodetDecoder(Context(", box_decode: fancy")).ok());
  EXPECT_FALSE(CreateNanodetDecoder(Context(", iou_threshold: 2")).ok());
}

TEST(NanodetDecoderTest, HumanModeUsesArgmaxBinsAndScaleBox) {
  auto d = CreateNanodetDecoder(Context(", box_decode: human, iou_threshold: 0.4"));
  ASSERT_TRUE(d.ok());
  auto out = Outputs();
  // human's coarsest level (2x2 here, stride 32) is its strideSize 1; cell 0 centre (0.25, 0.25).
  out[2].data[0] = 0.5f;
  const int bins[4] = {1, 1, 2, 2};
  SetSides(out[5], 0, bins);
  auto p = (*d)->Decode(out, {Stretch(64, 64)}, {});
  ASSERT_TRUE(p.ok());
  ASSERT_EQ((*p)[0].detections.size(), 1u);
  // offset = bin * (2 / 1 / 64); x = cx - 2.5 * offset.
  const double k = 2.5 * 2.0 / 64;
  const Box& b = (*p)[0].detections[0].box;
  EXPECT_NEAR(b.left, 0.25 - k * 1, 1e-5);
  EXPECT_NEAR(b.top, 0.25 - k * 1, 1e-5);
  EXPECT_NEAR(b.width, (0.25 + k * 2) - (0.25 - k * 1), 1e-5);
}

}  // namespace
}  // namespace stratus::runtime
