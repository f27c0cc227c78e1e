#include "tools/import/tfjs_weights.h"

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

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
  EXPECT_EQ(LoadTfjsWeights(dir_ / "bad.json").status().code(), absl::StatusCode::kInvalidArgument);
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

// Inputs found by fuzz/tfjs_weights_fuzzer.cc: each used to throw out of the reader (aborting
// the importer), overflow, or read past the shard; now each is INVALID_ARGUMENT.
TEST(ParseTfjsWeightsTest, MalformedManifestsAreInvalidArgument) {
  const std::string shard(8, '\1');
  auto read = [&](const std::string&) -> absl::StatusOr<std::string> { return shard; };
  const char* kBad[] = {
      // A shard path that is not a string (threw type_error).
      R"([{"paths": [1], "weights": []}])",
      // Paths or weights that are not arrays.
      R"([{"paths": "a", "weights": []}])",
      R"([{"paths": ["a"], "weights": {"x": 1}}])",
      R"([7])",
      // Quantization that is not an object (threw from value()), scale/min not numbers.
      R"([{"paths": ["a"], "weights": [{"name": "x", "shape": [1], "dtype": "float32",
           "quantization": "uint8"}]}])",
      R"([{"paths": ["a"], "weights": [{"name": "x", "shape": [1], "dtype": "float32",
           "quantization": {"dtype": "uint8", "scale": "1", "min": 0}}]}])",
      // A negative dimension (wrapped the byte count, then threw length_error).
      R"([{"paths": ["a"], "weights": [{"name": "y", "shape": [1], "dtype": "float32"},
           {"name": "x", "shape": [-1], "dtype": "float32"}]}])",
      // Element counts that overflow int64 (UB) or wrap the byte count to 0.
      R"([{"paths": ["a"], "weights": [{"name": "x", "shape": [4294967296, 4294967296],
           "dtype": "float32"}]}])",
      R"([{"paths": ["a"], "weights": [{"name": "x", "shape": [4611686018427387904],
           "dtype": "float32"}]}])",
      // Stored as bool (1 byte each) but decoded as float32: read past the shard.
      R"([{"paths": ["a"], "weights": [{"name": "x", "shape": [8], "dtype": "float32",
           "quantization": {"dtype": "bool", "scale": 1, "min": 0}}]}])",
      // Dimensions that are not integers: a float out of int64's range (a plain cast in
      // nlohmann's get<int64_t>(), undefined behaviour: found by the fuzzer), a fraction, a
      // string; and an unsigned integer above int64's range.
      R"([{"paths": ["a"], "weights": [{"name": "x", "shape": [42949672429496729697, 2],
           "dtype": "float32"}]}])",
      R"([{"paths": ["a"], "weights": [{"name": "x", "shape": [1.5], "dtype": "float32"}]}])",
      R"([{"paths": ["a"], "weights": [{"name": "x", "shape": ["2"], "dtype": "float32"}]}])",
      R"([{"paths": ["a"], "weights": [{"name": "x", "shape": [18446744073709551615],
           "dtype": "float32"}]}])",
      R"([{"paths": ["a"], "weights": [{"name": "x", "shape": 2, "dtype": "float32"}]}])",
      // A scalar with no bytes left.
      R"([{"paths": ["a"], "weights": [{"name": "x", "shape": [2], "dtype": "float32"},
           {"name": "s", "shape": [], "dtype": "float32"}]}])",
  };
  for (const char* manifest : kBad) {
    auto w = ParseTfjsWeights(manifest, read, "m.json");
    EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument) << manifest;
  }
  // The same reader accepts a well-formed manifest over the same bytes.
  auto ok = ParseTfjsWeights(
      R"([{"paths": ["a"], "weights": [{"name": "x", "shape": [2, 0], "dtype": "float32"},
           {"name": "y", "shape": [2], "dtype": "float32"}]}])",
      read, "m.json");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->at("x").values.size(), 0u);
  EXPECT_EQ(ok->at("y").values.size(), 2u);
}

TEST_F(TfjsWeightsTest, ShardPathsOutsideTheFolderAreRefused) {
  Write("s", std::string(4, '\0'));
  for (const char* path : {"../s", "/etc/hostname", "sub/../../s", ""}) {
    Write("m.json", std::string(R"([{"paths": [")") + path +
                        R"("], "weights": [{"name": "x", "shape": [1], "dtype": "float32"}]}])");
    auto w = LoadTfjsWeights(dir_ / "m.json");
    EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument) << path;
  }
  Write("m.json", R"([{"paths": ["./s"], "weights": [{"name": "x", "shape": [1],
                        "dtype": "float32"}]}])");
  EXPECT_TRUE(LoadTfjsWeights(dir_ / "m.json").ok());
}

}  // namespace
}  // namespace stratus::import
