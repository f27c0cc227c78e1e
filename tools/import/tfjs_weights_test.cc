#include "tools/import/tfjs_weights.h"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stratus::import {
namespace {

namespace fs = std::filesystem;

class TfjsWeightsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tfjs_weights_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& data) {
    std::ofstream(dir_ / name, std::ios::binary) << data;
  }
  fs::path dir_;
};

std::string Bytes(const void* p, size_t n) { return std::string(static_cast<const char*>(p), n); }

TEST_F(TfjsWeightsTest, DecodesFloatQuantisedAndHalfAcrossShards) {
  const float f[3] = {1.5f, -2.25f, 3.0f};
  const uint8_t q[4] = {0, 1, 2, 255};
  const uint16_t h[2] = {0x3c00, 0xc000};  // 1.0, -2.0
  const int32_t i32[1] = {7};
  // Group 1: float32 + uint8 split over two shards mid-tensor. Group 2: float16 + int32.
  std::string g1 = Bytes(f, sizeof f) + Bytes(q, sizeof q);
  Write("g1-shard1", g1.substr(0, 10));
  Write("g1-shard2", g1.substr(10));
  Write("g2", Bytes(h, sizeof h) + Bytes(i32, sizeof i32));
  Write("m.json", R"([
    {"paths": ["g1-shard1", "g1-shard2"], "weights": [
      {"name": "a/w", "shape": [3], "dtype": "float32"},
      {"name": "a/q", "shape": [2, 2], "dtype": "float32",
       "quantization": {"dtype": "uint8", "scale": 0.1, "min": -1.0}}]},
    {"paths": ["g2"], "weights": [
      {"name": "b/h", "shape": [2], "dtype": "float32", "quantization": {"dtype": "float16"}},
      {"name": "b/i", "shape": [], "dtype": "int32"}]}])");
  auto w = LoadTfjsWeights(dir_ / "m.json");
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->size(), 4u);
  EXPECT_THAT(w->at("a/w").values, ::testing::ElementsAre(1.5f, -2.25f, 3.0f));
  const auto& a = w->at("a/q");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(a.stored_as, "uint8");
  // q * scale + min in double, rounded once to float32 (tfjs-core decodeWeights).
  EXPECT_EQ(a.values[0], static_cast<float>(-1.0));
  EXPECT_EQ(a.values[1], static_cast<float>(1 * 0.1 - 1.0));
  EXPECT_EQ(a.values[3], static_cast<float>(255 * 0.1 - 1.0));
  EXPECT_THAT(w->at("b/h").values, ::testing::ElementsAre(1.0f, -2.0f));
  EXPECT_EQ(w->at("b/i").numel(), 1);
  EXPECT_EQ(w->at("b/i").values[0], 7.0f);
}

TEST_F(TfjsWeightsTest, ShortShardIsAnError) {
  Write("s", std::string(8, '\0'));
  Write("m.json", R"([{"paths": ["s"], "weights": [
      {"name": "w", "shape": [3], "dtype": "float32"}]}])");
  auto w = LoadTfjsWeights(dir_ / "m.json");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(w.status().message()), ::testing::HasSubstr("w: shard data too short"));
}

TEST_F(TfjsWeightsTest, MissingFilesAndBadJson) {
  EXPECT_EQ(LoadTfjsWeights(dir_ / "none.json").status().code(), absl::StatusCode::kNotFound);
  Write("bad.json", "{not json");
  EXPECT_EQ(LoadTfjsWeights(dir_ / "bad.json").status().code(),
            absl::StatusCode::kInvalidArgument);
  Write("m.json", R"([{"paths": ["absent"], "weights": []}])");
  EXPECT_EQ(LoadTfjsWeights(dir_ / "m.json").status().code(), absl::StatusCode::kNotFound);
}

TEST(HalfToFloatTest, SpecialValues) {
  EXPECT_EQ(HalfToFloat(0x0000), 0.0f);
  EXPECT_EQ(HalfToFloat(0x3555), 0.333251953125f);
  EXPECT_EQ(HalfToFloat(0x0001), 5.9604644775390625e-08f);  // smallest subnormal
  EXPECT_EQ(HalfToFloat(0x7bff), 65504.0f);
  EXPECT_TRUE(std::isinf(HalfToFloat(0x7c00)));
}

}  // namespace
}  // namespace stratus::import
