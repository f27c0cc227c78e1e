// Holds the imported face_iris, face_antispoof and face_liveness ($STRATUS_MODEL_DIR, made by
// scripts/models.d/22-import-human-face.sh) to TF.js: the same two inputs through TF.js 4.22's
// WebAssembly backend (testdata/human_face.json, written by human_face_reference.js) and
// through the imported TorchScript module must give the same outputs. Without the models the
// tests skip, unless STRATUS_REQUIRE_MODELS=1, when they fail.
#include <torch/script.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace {

namespace fs = std::filesystem;

std::string Env(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

fs::path ModelDir(const std::string& model) {
  const std::string home = Env("HOME", "/root");
  const std::string cache = Env("STRATUS_CACHE", home + "/.cache/stratus");
  return fs::path(Env("STRATUS_MODEL_DIR", cache + "/models")) / model;
}

nlohmann::json Reference() {
  std::ifstream in(fs::path(Env("STRATUS_SOURCE_DIR", ".")) /
                   "tools/import/graph/testdata/human_face.json");
  return nlohmann::json::parse(in);
}

// The reference script's inputs, NHWC as TF.js sees them, returned as NCHW.
at::Tensor Input(const std::string& kind, int size) {
  std::vector<float> x(static_cast<size_t>(size) * size * 3);
  size_t k = 0;
  for (int h = 0; h < size; ++h) {
    for (int w = 0; w < size; ++w) {
      for (int c = 0; c < 3; ++c, ++k) {
        x[k] = kind == "ramp" ? static_cast<float>((k * 37) % 256) / 255.0f
                              : static_cast<float>(0.5 + 0.5 * std::sin(0.11 * h + 0.07 * w +
                                                                        1.3 * c));
      }
    }
  }
  return torch::from_blob(x.data(), {1, size, size, 3}).permute({0, 3, 1, 2}).contiguous();
}

class HumanFaceGoldenTest : public ::testing::TestWithParam<std::pair<const char*, const char*>> {
};

TEST_P(HumanFaceGoldenTest, OutputsMatchTfjs) {
  const auto [graph, model] = GetParam();
  const fs::path pt = ModelDir(model) / "model.pt";
  if (!fs::exists(pt)) {
    if (Env("STRATUS_REQUIRE_MODELS", "") == "1") FAIL() << "missing " << pt << " (make models)";
    GTEST_SKIP() << "no model at " << pt << " (make models)";
  }
  const nlohmann::json ref = Reference()["models"][graph];
  ASSERT_TRUE(ref.is_object()) << "no reference for " << graph;
  torch::jit::Module module = torch::jit::load(pt.string());
  module.eval();
  c10::InferenceMode guard;
  for (const std::string kind : {"ramp", "wave"}) {
    const nlohmann::json& r = ref["inputs"][kind];
    at::Tensor out = module.forward({Input(kind, ref["size"].get<int>())}).toTensor().contiguous();
    ASSERT_EQ(out.sizes().vec(), r["shape"].get<std::vector<int64_t>>()) << graph << " " << kind;
    const std::vector<float> want = r["values"].get<std::vector<float>>();
    ASSERT_EQ(static_cast<int64_t>(want.size()), out.numel());
    const float* got = out.data_ptr<float>();
    double max_abs = 0, range = 0;
    for (size_t k = 0; k < want.size(); ++k) {
      max_abs = std::max(max_abs, static_cast<double>(std::fabs(got[k] - want[k])));
      range = std::max(range, static_cast<double>(std::fabs(want[k])));
    }
    std::cout << graph << " " << kind << " max_abs_err=" << max_abs << " (range " << range
              << ")\n";
    // float32 on both sides, different summation orders: within 1e-4 of the output's range.
    EXPECT_LE(max_abs, 1e-4 * std::max(1.0, range)) << graph << " " << kind;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, HumanFaceGoldenTest,
                         ::testing::Values(std::pair{"iris", "face_iris"},
                                           std::pair{"antispoof", "face_antispoof"},
                                           std::pair{"liveness", "face_liveness"}));

}  // namespace
