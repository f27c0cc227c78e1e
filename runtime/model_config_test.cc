#include "runtime/model_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace stratus::runtime {
namespace {

using ::testing::HasSubstr;

constexpr char kGood[] = R"(
name: faces
version: "faceapi-1.7.15+imp.1"
task: face_detection
source: "npm:@vladmandic/face-api@1.7.15:model/ssd_mobilenetv1"
input:
  width: 512
  height: 384
  resize: pad_bottom_right
  interpolation: tf_bilinear
  color: bgr
  mean: [127.5, 127.5, 127.5]
  std: [127.5, 127.5, 127.5]
decoder:
  type: ssd
  iou_threshold: 0.4
  max_results: 10
labels: [face]
)";

TEST(ModelConfigTest, ParsesEveryKey) {
  auto c = ParseModelConfig(kGood, "faces");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->name, "faces");
  EXPECT_EQ(c->version, "faceapi-1.7.15+imp.1");
  EXPECT_EQ(c->task, "face_detection");
  EXPECT_EQ(c->input.width, 512);
  EXPECT_EQ(c->input.height, 384);
  EXPECT_EQ(c->input.resize, ResizePolicy::kPadBottomRight);
  EXPECT_EQ(c->input.interpolation, Interpolation::kTfBilinear);
  EXPECT_TRUE(c->input.bgr);
  EXPECT_FLOAT_EQ(c->input.mean[1], 127.5f);
  EXPECT_FLOAT_EQ(c->input.std[2], 127.5f);
  EXPECT_EQ(c->decoder_type, "ssd");
  EXPECT_THAT(c->decoder_yaml, HasSubstr("iou_threshold: 0.4"));
  EXPECT_EQ(c->labels, std::vector<std::string>{"face"});
}

TEST(ModelConfigTest, DefaultsAndScalarShorthands) {
  auto c = ParseModelConfig(
      "name: m\ntask: image_classification\ninput: {width: 4, height: 4, mean: 1, std: 2}\n"
      "decoder: classifier\nlabels: [a]\n",
      "m");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->input.resize, ResizePolicy::kStretch);
  EXPECT_EQ(c->input.interpolation, Interpolation::kBilinear);
  EXPECT_FALSE(c->input.bgr);
  EXPECT_FLOAT_EQ(c->input.mean[2], 1.f);
  EXPECT_FLOAT_EQ(c->input.std[0], 2.f);
  EXPECT_EQ(c->decoder_type, "classifier");
  auto lb = ParseModelConfig(
      "name: y\ntask: object_detection\ninput: {width: 4, height: 4, resize: letterbox}\n"
      "decoder: {type: yolo}\n", "y");
  ASSERT_TRUE(lb.ok());
  EXPECT_FLOAT_EQ(lb->input.pad_value, 114.f);
}

struct BadCase {
  const char* yaml;
  const char* message;
};

TEST(ModelConfigTest, ErrorsNameTheModelAndTheProblem) {
  const BadCase cases[] = {
      {"name: [", "not valid YAML"},
      {"- a\n- b\n", "mapping at the top level"},
      {"task: face_detection\n", "missing 'name'"},
      {"name: other\ntask: face_detection\n", "name 'other' does not match the folder name 'm'"},
      {"name: m\n", "missing 'task'"},
      {"name: m\ntask: juggling\n", "unknown task 'juggling'"},
      {"name: m\ntask: face_detection\ndecoder: ssd\n", "missing 'input'"},
      {"name: m\ntask: face_detection\ninput: {height: 4}\ndecoder: ssd\n",
       "missing 'input.width'"},
      {"name: m\ntask: face_detection\ninput: {width: 0, height: 4}\ndecoder: ssd\n",
       "out of range"},
      {"name: m\ntask: face_detection\ninput: {width: x, height: 4}\ndecoder: ssd\n",
       "'input.width' has the wrong type"},
      {"name: m\ntask: face_detection\ninput: {width: 4, height: 4, resize: squash}\n"
       "decoder: ssd\n",
       "input.resize 'squash' unknown"},
      {"name: m\ntask: face_detection\ninput: {width: 4, height: 4, color: cmyk}\ndecoder: ssd\n",
       "input.color 'cmyk' unknown"},
      {"name: m\ntask: face_detection\ninput: {width: 4, height: 4, mean: [1, 2]}\n"
       "decoder: ssd\n",
       "'input.mean' must have 3 values"},
      {"name: m\ntask: face_detection\ninput: {width: 4, height: 4, std: [1, 0, 1]}\n"
       "decoder: ssd\n",
       "input.std values must be > 0"},
      {"name: m\ntask: face_detection\ninput: {width: 4, height: 4}\n", "missing 'decoder'"},
      {"name: m\ntask: face_detection\ninput: {width: 4, height: 4}\ndecoder: {iou: 1}\n",
       "missing 'decoder.type'"},
      {"name: m\ntask: face_expression\ninput: {width: 4, height: 4}\ndecoder: classifier\n",
       "needs 'labels'"},
      {"name: m\ntask: face_age_gender\ninput: {width: 4, height: 4}\ndecoder: age_gender\n"
       "labels: [a]\n",
       "2 genders"},
  };
  for (const BadCase& c : cases) {
    auto r = ParseModelConfig(c.yaml, "m");
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr("model 'm': config.yaml: ")) << c.yaml;
    EXPECT_THAT(r.status().message(), HasSubstr(c.message)) << c.yaml;
  }
}

TEST(ModelConfigTest, MissingFileIsNotFound) {
  auto r = LoadModelConfig("/nonexistent/models/faces/");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("model 'faces'"));
}

}  // namespace
}  // namespace stratus::runtime
