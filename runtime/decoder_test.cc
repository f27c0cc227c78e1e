#include "runtime/decoder.h"

#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace stratus::runtime {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

DecoderContext Ctx(const std::string& type, const std::string& yaml = "{}",
                   std::vector<std::string> labels = {}) {
  DecoderContext c;
  c.model_name = "m";
  c.type = type;
  c.params = YAML::Load(yaml);
  c.labels = std::move(labels);
  c.input_width = 100;
  c.input_height = 100;
  return c;
}

InputGeometry Identity(int w, int h) {
  InputGeometry g;
  g.image_width = g.input_width = w;
  g.image_height = g.input_height = h;
  return g;
}

TEST(DecoderTest, UnknownTypeListsKnownOnes) {
  auto d = CreateDecoder(Ctx("frobnicate"));
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("model 'm'"));
  EXPECT_THAT(d.status().message(), HasSubstr("unknown decoder type 'frobnicate'"));
  EXPECT_THAT(d.status().message(), HasSubstr("ssd"));
}

TEST(DecoderTest, BadParamNamesKey) {
  auto d = CreateDecoder(Ctx("ssd", "{iou_threshold: [1, 2]}"));
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("iou_threshold"));
}

TEST(DecoderTest, NmsKeepsBestAndSuppressesOverlaps) {
  std::vector<Candidate> c = {
      {0, 0, 10, 10, 0.8f, 0, 0},
      {1, 1, 11, 11, 0.9f, 0, 1},    // overlaps #0 (IoU 0.68): wins
      {50, 50, 60, 60, 0.7f, 0, 2},  // apart
      {1, 1, 11, 11, 0.85f, 1, 3},   // other class: kept unless agnostic
  };
  auto kept = NonMaxSuppression(c, 0.5f, 0, false);
  ASSERT_THAT(kept, SizeIs(3));
  EXPECT_EQ(kept[0].index, 1);
  EXPECT_EQ(kept[1].index, 3);
  EXPECT_EQ(kept[2].index, 2);
  EXPECT_THAT(NonMaxSuppression(c, 0.5f, 0, true), SizeIs(2));
  EXPECT_THAT(NonMaxSuppression(c, 0.5f, 1, false), SizeIs(1));
  EXPECT_NEAR(IoU(c[0], c[1]), 81.f / 119.f, 1e-6);
}

TEST(DecoderTest, SsdThresholdNmsAndPaddingUndone) {
  auto d = CreateDecoder(Ctx("ssd", "{type: ssd}", {"face"}));
  ASSERT_TRUE(d.ok()) << d.status();
  OutputTensor boxes{{1, 3, 4}, {0.1f, 0.2f, 0.3f, 0.4f,       // ymin,xmin,ymax,xmax
                                 0.11f, 0.21f, 0.31f, 0.41f,   // overlaps the first
                                 0.5f, 0.0f, 0.6f, 1.2f}};     // low score
  OutputTensor scores{{1, 3}, {0.9f, 0.8f, 0.4f}};
  // A 200x100 image padded at the bottom to 200x200, resized to 100x100: scale 0.5.
  InputGeometry g;
  g.image_width = 200;
  g.image_height = 100;
  g.input_width = g.input_height = 100;
  g.scale_x = g.scale_y = 0.5;
  ASSERT_TRUE((*d)->CheckOutputs({boxes, scores}, 1).ok());
  auto p = (*d)->Decode({boxes, scores}, {g}, {});
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_THAT((*p)[0].detections, SizeIs(1));
  const Detection& det = (*p)[0].detections[0];
  EXPECT_EQ(det.label, "face");
  EXPECT_FLOAT_EQ(det.confidence, 0.9f);
  EXPECT_NEAR(det.box.left, 0.2, 1e-6);
  EXPECT_NEAR(det.box.width, 0.2, 1e-6);
  EXPECT_NEAR(det.box.top, 0.2, 1e-6);    // 0.1 of the square = 0.2 of the image height
  EXPECT_NEAR(det.box.height, 0.4, 1e-6);
  // A lower min_confidence brings back the third box, clipped to the image.
  DecodeOptions o;
  o.min_confidence = 0.3f;
  p = (*d)->Decode({boxes, scores}, {g}, o);
  ASSERT_THAT((*p)[0].detections, SizeIs(2));
  EXPECT_FLOAT_EQ((*p)[0].detections[1].box.top, 1.0f);
  EXPECT_FLOAT_EQ((*p)[0].detections[1].box.height, 0.0f);
}

TEST(DecoderTest, SsdRejectsWrongShapes) {
  auto d = CreateDecoder(Ctx("ssd"));
  ASSERT_TRUE(d.ok());
  absl::Status s = (*d)->CheckOutputs({OutputTensor{{1, 5, 3}, std::vector<float>(15)},
                                       OutputTensor{{1, 5}, std::vector<float>(5)}},
                                      1);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("[1,5,3]"));
  s = (*d)->CheckOutputs({OutputTensor{{1, 5, 4}, std::vector<float>(20)}}, 1);
  EXPECT_THAT(s.message(), HasSubstr("returned 1 output"));
}

TEST(DecoderTest, YoloV5AndV8LetterboxUndone) {
  // Two boxes on a 2-class model; image 100x50 letterboxed into 100x100: offset_y 25.
  InputGeometry g;
  g.image_width = 100;
  g.image_height = 50;
  g.input_width = g.input_height = 100;
  g.offset_y = 25;
  // v5 rows: cx, cy, w, h, obj, c0, c1
  OutputTensor v5{{1, 2, 7}, {50, 50, 20, 10, 0.9f, 0.1f, 0.8f,  //
                              10, 30, 4, 4, 0.5f, 0.2f, 0.1f}};
  auto d = CreateDecoder(Ctx("yolo", "{}", {"cat", "dog"}));
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE((*d)->CheckOutputs({v5}, 1).ok());
  auto p = (*d)->Decode({v5}, {g}, {});
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_THAT((*p)[0].detections, SizeIs(1));  // the second scores 0.1 < 0.25
  Detection det = (*p)[0].detections[0];
  EXPECT_EQ(det.label, "dog");
  EXPECT_NEAR(det.confidence, 0.72, 1e-6);
  EXPECT_NEAR(det.box.left, 0.4, 1e-6);
  EXPECT_NEAR(det.box.width, 0.2, 1e-6);
  EXPECT_NEAR(det.box.top, 0.4, 1e-6);  // (45 - 25) / 50
  EXPECT_NEAR(det.box.height, 0.2, 1e-6);

  // Same box in the v8 layout [1, 4+2, N]: transpose, no objectness.
  OutputTensor v8{{1, 6, 2}, {50, 10, 50, 30, 20, 4, 10, 4, 0.1f, 0.2f, 0.72f, 0.1f}};
  ASSERT_TRUE((*d)->CheckOutputs({v8}, 1).ok());
  p = (*d)->Decode({v8}, {g}, {});
  ASSERT_THAT((*p)[0].detections, SizeIs(1));
  EXPECT_NEAR((*p)[0].detections[0].box.top, 0.4, 1e-6);
  // Classes of interest: only "cat" -> its score 0.09 is below the threshold.
  DecodeOptions o;
  o.classes = {0};
  p = (*d)->Decode({v5}, {g}, o);
  EXPECT_THAT((*p)[0].detections, SizeIs(0));
  // Label count mismatch is a shape error.
  auto three = CreateDecoder(Ctx("yolo", "{}", {"a", "b", "c"}));
  EXPECT_THAT((*three)->CheckOutputs({v5}, 1).message(), HasSubstr("got [1,2,7]"));
  OutputTensor v5_big{{1, 100, 7}, std::vector<float>(700)};
  EXPECT_THAT((*three)->CheckOutputs({v5_big}, 1).message(), HasSubstr("3 classes"));
}

TEST(DecoderTest, ClassifierSoftmaxAndNone) {
  OutputTensor logits{{2, 3}, {1, 2, 3, 0, 0, 0}};
  auto d = CreateDecoder(Ctx("classifier", "{}", {"a", "b", "c"}));
  ASSERT_TRUE(d.ok());
  auto p = (*d)->Decode({logits}, {Identity(1, 1), Identity(1, 1)}, {});
  ASSERT_TRUE(p.ok());
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  EXPECT_NEAR((*p)[0].probabilities[2], std::exp(3.0) / z, 1e-6);
  EXPECT_NEAR((*p)[1].probabilities[0], 1.0 / 3, 1e-6);
  auto none = CreateDecoder(Ctx("classifier", "{activation: none}"));
  p = (*none)->Decode({logits}, {Identity(1, 1), Identity(1, 1)}, {});
  EXPECT_FLOAT_EQ((*p)[0].probabilities[2], 3.f);
  EXPECT_FALSE(CreateDecoder(Ctx("classifier", "{activation: relu}")).ok());
  EXPECT_THAT((*d)->CheckOutputs({OutputTensor{{1, 4}, std::vector<float>(4)}}, 1).message(),
              HasSubstr("one per label"));
}

TEST(DecoderTest, EmbeddingNormalises) {
  OutputTensor e{{1, 2, 1, 1}, {3, 4}};
  auto d = CreateDecoder(Ctx("embedding", "{normalize: true}"));
  auto p = (*d)->Decode({e}, {Identity(1, 1)}, {});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_FLOAT_EQ((*p)[0].embedding[0], 0.6f);
  EXPECT_FLOAT_EQ((*p)[0].embedding[1], 0.8f);
}

TEST(DecoderTest, LandmarksUndoCenteredPadding) {
  // A 50x100 crop padded to 100x100 (25 px each side), resized to 112: scale 1.12, offset 28.
  InputGeometry g;
  g.image_width = 50;
  g.image_height = 100;
  g.input_width = g.input_height = 112;
  g.scale_x = g.scale_y = 1.12;
  g.offset_x = 28;
  std::vector<float> pts(136, 0.5f);
  pts[0] = 0.25f;  // x of point 0: at input px 28 = left edge of the crop
  auto d = CreateDecoder(Ctx("landmarks68"));
  auto p = (*d)->Decode({OutputTensor{{1, 136}, pts}}, {g}, {});
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_THAT((*p)[0].landmarks, SizeIs(68));
  EXPECT_NEAR((*p)[0].landmarks[0].x, 0.0, 1e-6);
  EXPECT_NEAR((*p)[0].landmarks[1].x, 0.5, 1e-6);
  EXPECT_NEAR((*p)[0].landmarks[1].y, 0.5, 1e-6);
}

TEST(DecoderTest, AgeGender) {
  auto d = CreateDecoder(Ctx("age_gender", "{}", {"male", "female"}));
  std::vector<OutputTensor> out = {OutputTensor{{1, 1}, {31.5f}}, OutputTensor{{1, 2}, {0, 0}}};
  ASSERT_TRUE((*d)->CheckOutputs(out, 1).ok());
  auto p = (*d)->Decode(out, {Identity(1, 1)}, {});
  EXPECT_FLOAT_EQ(*(*p)[0].age, 31.5f);
  EXPECT_FLOAT_EQ((*p)[0].probabilities[0], 0.5f);
  EXPECT_FALSE((*d)->CheckOutputs({out[1], out[0]}, 1).ok());
}

}  // namespace
}  // namespace stratus::runtime
