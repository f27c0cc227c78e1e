#include "tools/import/faceapi_import.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"

namespace stratus::import {
namespace {

namespace fs = std::filesystem;

TEST(StampKeyTest, DependsOnIntegrityAndVersion) {
  const std::string k = StampKey(kFaceApiIntegrity, kImporterVersion);
  EXPECT_EQ(k.size(), 64u);
  EXPECT_EQ(k, StampKey(kFaceApiIntegrity, kImporterVersion));
  EXPECT_NE(k, StampKey(kFaceApiIntegrity, "imp.0"));
  EXPECT_NE(k, StampKey("sha512-other", kImporterVersion));
}

TEST(FileIntegrityTest, MatchesNpmSriFormat) {
  const fs::path p = fs::temp_directory_path() / ("integrity_" + std::to_string(getpid()));
  std::ofstream(p) << "abc";
  auto sri = FileIntegritySha512(p);
  fs::remove(p);
  ASSERT_TRUE(sri.ok()) << sri.status();
  // sha512("abc"), base64.
  EXPECT_EQ(*sri,
            "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw==");
}

TEST(FaceApiConfigTest, EveryModelHasTheContractKeys) {
  for (const std::string& name : FaceApiModelNames()) {
    SCOPED_TRACE(name);
    auto text = FaceApiConfigYaml(name);
    ASSERT_TRUE(text.ok());
    YAML::Node c = YAML::Load(*text);
    EXPECT_EQ(c["name"].as<std::string>(), name);
    EXPECT_EQ(c["version"].as<std::string>(), std::string("faceapi-1.7.15+") + kImporterVersion);
    EXPECT_THAT(c["source"].as<std::string>(),
                ::testing::StartsWith("npm:@vladmandic/face-api@1.7.15:model/"));
    for (const char* k : {"width", "height", "resize", "interpolation", "color", "mean", "std"}) {
      EXPECT_TRUE(c["input"][k].IsDefined()) << k;
    }
    EXPECT_EQ(c["input"]["mean"].size(), 3u);
    EXPECT_TRUE(c["decoder"]["type"].IsDefined());
    EXPECT_TRUE(c["labels"].IsSequence());
  }
  YAML::Node faces = YAML::Load(*FaceApiConfigYaml("faces"));
  EXPECT_EQ(faces["task"].as<std::string>(), "face_detection");
  EXPECT_EQ(faces["input"]["width"].as<int>(), 512);
  EXPECT_EQ(faces["input"]["resize"].as<std::string>(), "pad_bottom_right");
  EXPECT_EQ(faces["input"]["interpolation"].as<std::string>(), "tf_bilinear");
  EXPECT_EQ(faces["decoder"]["type"].as<std::string>(), "ssd");
  EXPECT_EQ(faces["decoder"]["iou_threshold"].as<double>(), 0.5);
  EXPECT_EQ(faces["labels"][0].as<std::string>(), "face");
  YAML::Node expr = YAML::Load(*FaceApiConfigYaml("face_expression"));
  EXPECT_EQ(expr["labels"].size(), 7u);
  EXPECT_EQ(expr["decoder"]["softmax_applied"].as<bool>(), true);
  EXPECT_EQ(YAML::Load(*FaceApiConfigYaml("face_descriptor"))["input"]["width"].as<int>(), 150);
  EXPECT_EQ(FaceApiConfigYaml("nope").status().code(), absl::StatusCode::kNotFound);
}

class ImportCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("faceapi_import_test_" + std::to_string(getpid()));
    fs::create_directories(root_ / "models" / "faces");
    for (const char* f : {"model.pt", "config.yaml"}) std::ofstream(root_ / "models/faces" / f) << "x";
    options_.package_dir = root_ / "package";  // no weights there
    options_.model_dir = root_ / "models";
    options_.models = {"faces"};
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
  FaceApiImportOptions options_;
};

TEST_F(ImportCacheTest, SkipsAModelWhoseStampMatches) {
  std::ofstream(root_ / "models/faces/.stamp") << StampKey(kFaceApiIntegrity, kImporterVersion)
                                                << "\n";
  auto r = ImportFaceApi(options_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->skipped, ::testing::ElementsAre("faces"));
  EXPECT_TRUE(r->imported.empty());
}

TEST_F(ImportCacheTest, RebuildsOnStaleStampAndKeepsTheOldModelOnFailure) {
  std::ofstream(root_ / "models/faces/.stamp") << "stale\n";
  auto r = ImportFaceApi(options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);  // no weights in package_dir
  EXPECT_TRUE(fs::exists(root_ / "models/faces/model.pt"));
  for (const auto& e : fs::directory_iterator(root_ / "models")) {
    EXPECT_EQ(e.path().filename(), "faces") << "left over: " << e.path();
  }
}

TEST_F(ImportCacheTest, RemovesLeftoversOfDeadImportersOnly) {
  std::ofstream(root_ / "models/faces/.stamp") << StampKey(kFaceApiIntegrity, kImporterVersion)
                                                << "\n";
  const std::string live = std::to_string(getpid());
  fs::create_directories(root_ / "models/.tmp-faces-999999999");  // no such process
  fs::create_directories(root_ / "models/.old-faces-999999998");
  fs::create_directories(root_ / ("models/.tmp-faces-" + live));
  ASSERT_TRUE(ImportFaceApi(options_).ok());
  EXPECT_FALSE(fs::exists(root_ / "models/.tmp-faces-999999999"));
  EXPECT_FALSE(fs::exists(root_ / "models/.old-faces-999999998"));
  EXPECT_TRUE(fs::exists(root_ / ("models/.tmp-faces-" + live)));
}

TEST_F(ImportCacheTest, RejectsATarballThatDoesNotMatchThePin) {
  std::ofstream(root_ / "pkg.tgz") << "not the package";
  options_.tarball = root_ / "pkg.tgz";
  auto r = ImportFaceApi(options_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ImportCacheTest, UnknownModelName) {
  options_.models = {"faces", "bogus"};
  EXPECT_EQ(ImportFaceApi(options_).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace stratus::import
