// Builds every face-api module from synthetic weights with the real tensor names and shapes
// (../shared/golden/faceapi_weights.json lists them), so the graph construction, save/load and
// output shapes are checked without the npm package. Exactness against TF.js is
// faceapi_exactness_test's job.
#include "tools/import/faceapi_models.h"

#include <torch/script.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace stratus::import {
namespace {

namespace fs = std::filesystem;

fs::path WeightsJson() {
  const char* golden = std::getenv("STRATUS_GOLDEN_DIR");
  if (golden != nullptr) return fs::path(golden).parent_path() / "faceapi_weights.json";
  const char* src = std::getenv("STRATUS_SOURCE_DIR");
  return fs::path(src != nullptr ? src : ".") / "../shared/golden/faceapi_weights.json";
}

// Deterministic small values with the manifest's names and shapes; variances positive.
TfjsWeightMap Synthetic(const std::string& manifest) {
  std::ifstream in(WeightsJson());
  nlohmann::json all = nlohmann::json::parse(in);
  TfjsWeightMap map;
  uint32_t seed = 12345;
  for (const auto& w : all.at(manifest).at("weights")) {
    TfjsTensor t;
    t.name = w.at("name").get<std::string>();
    t.dtype = w.at("dtype").get<std::string>();
    t.stored_as = "float32";
    t.shape = w.at("shape").get<std::vector<int64_t>>();
    t.values.resize(t.numel());
    const bool positive = t.name.find("variance") != std::string::npos;
    for (float& v : t.values) {
      seed = seed * 1664525u + 1013904223u;
      const float u = static_cast<float>(seed >> 8) / 16777216.0f;  // [0, 1)
      v = positive ? 0.5f + u : (u - 0.5f) * 0.2f;
    }
    map[t.name] = std::move(t);
  }
  return map;
}

struct Case {
  FaceApiNet net;
  const char* manifest;
  int size;
  std::vector<std::vector<int64_t>> outputs;  // for a batch of 2
};

class FaceApiModelsTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    if (!fs::exists(WeightsJson())) GTEST_SKIP() << "no " << WeightsJson();
    dir_ = fs::temp_directory_path() / ("faceapi_models_test_" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_P(FaceApiModelsTest, BuildsSavesLoadsAndRuns) {
  const Case& c = GetParam();
  const fs::path pt = dir_ / "model.pt";
  absl::Status s = BuildFaceApiModel(c.net, Synthetic(c.manifest), pt);
  ASSERT_TRUE(s.ok()) << s;
  torch::jit::Module m = torch::jit::load(pt.string());
  m.eval();
  c10::InferenceMode guard;
  torch::Tensor x = torch::rand({2, 3, c.size, c.size}).contiguous(at::MemoryFormat::ChannelsLast);
  c10::IValue out = m.forward({x});
  std::vector<torch::Tensor> got;
  if (out.isTuple()) {
    for (const auto& e : out.toTuple()->elements()) got.push_back(e.toTensor());
  } else {
    got.push_back(out.toTensor());
  }
  ASSERT_EQ(got.size(), c.outputs.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].sizes().vec(), c.outputs[i]) << "output " << i;
    EXPECT_TRUE(torch::isfinite(got[i]).all().item<bool>()) << "output " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Nets, FaceApiModelsTest,
    ::testing::Values(
        Case{FaceApiNet::kSsdMobilenetV1, "ssd_mobilenetv1_model", 512, {{2, 5118, 4}, {2, 5118}}},
        Case{FaceApiNet::kFaceLandmark68, "face_landmark_68_model", 112, {{2, 136}}},
        Case{FaceApiNet::kFaceRecognition, "face_recognition_model", 150, {{2, 128}}},
        Case{FaceApiNet::kAgeGender, "age_gender_model", 112, {{2}, {2, 2}}},
        Case{FaceApiNet::kFaceExpression, "face_expression_model", 112, {{2, 7}}}));

TEST(FaceApiModelsErrorsTest, MissingAndMisshapenWeightsAreNamed) {
  if (!fs::exists(WeightsJson())) GTEST_SKIP() << "no " << WeightsJson();
  const fs::path pt = fs::temp_directory_path() / ("faceapi_err_" + std::to_string(getpid()));
  TfjsWeightMap w = Synthetic("face_expression_model");
  w.erase("dense2/conv1/bias");
  absl::Status s = BuildFaceApiModel(FaceApiNet::kFaceExpression, w, pt);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("dense2/conv1/bias"));

  w = Synthetic("face_landmark_68_model");
  w["dense1/conv0/pointwise_filter"].shape = {1, 1, 16, 64};  // expects 32 input channels
  w["dense1/conv0/pointwise_filter"].values.resize(16 * 64);
  s = BuildFaceApiModel(FaceApiNet::kFaceLandmark68, w, pt);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("dense1/conv0/pw"));
  EXPECT_FALSE(fs::exists(pt));
}

}  // namespace
}  // namespace stratus::import
