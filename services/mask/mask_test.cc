// The mask core: options, loading and readiness, crops, boxes with margins, batching, the face
// finder path, all on a tiny TorchScript classifier (testing/tiny_mask_model.h); and the trained
// model (when $STRATUS_MODEL_DIR/mask exists) on the held-out test split of jobs/mask.yaml.
#include "services/mask/mask.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/image.h"
#include "services/mask/testing/tiny_mask_model.h"
#include "training/data.h"
#include "training/job.h"

namespace stratus::mask {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const cv::Scalar kRed(255, 0, 0), kGreen(0, 255, 0), kBlue(0, 0, 255);  // RGB

cv::Mat Solid(int w, int h, const cv::Scalar& rgb) { return cv::Mat(h, w, CV_8UC3, rgb); }

class TinyModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(fs::temp_directory_path() /
                           ("mask_test_" + std::to_string(::getpid())));
    ASSERT_TRUE(testing::WriteTinyMaskModel(*dir_).ok());
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  std::unique_ptr<MaskClassifier> Loaded(MaskOptions options = {}) {
    options.model_dir = *dir_;
    options.runtime.num_threads = 1;
    options.runtime.layout = "nchw";
    options.runtime.warmup_runs = 1;
    auto c = MaskClassifier::Create(options);
    EXPECT_TRUE(c.ok()) << c.status();
    EXPECT_TRUE((*c)->Load().ok());
    return std::move(*c);
  }

  static std::string* dir_;
};
std::string* TinyModelTest::dir_ = nullptr;

TEST(MaskOptionsTest, RefusesBadOptions) {
  MaskOptions o;
  EXPECT_EQ(MaskClassifier::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.model_dir = "/nowhere";
  o.max_batch = 0;
  EXPECT_EQ(MaskClassifier::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.max_batch = 16;
  o.margin_top = -0.1f;
  EXPECT_EQ(MaskClassifier::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.margin_top = 0.2f;
  o.model = "";
  EXPECT_EQ(MaskClassifier::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MaskLoadTest, MissingModelIsUnavailableAndNamed) {
  MaskOptions o;
  o.model_dir = "/nonexistent-model-dir";
  auto c = MaskClassifier::Create(o);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->Readiness().code(), absl::StatusCode::kUnavailable);
  cv::Mat crop = Solid(8, 8, kRed);
  EXPECT_EQ((*c)->ClassifyCrops({crop}).status().code(), absl::StatusCode::kUnavailable);
  absl::Status s = (*c)->Load();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr("'mask'"));
  EXPECT_EQ((*c)->Readiness(), s);
  EXPECT_EQ((*c)->ClassifyCrops({crop}).status().code(), absl::StatusCode::kUnavailable);
}

TEST(MaskLoadTest, RefusesANonClassifierModel) {
  const std::string dir = fs::temp_directory_path() / ("mask_bad_" + std::to_string(::getpid()));
  ASSERT_TRUE(testing::WriteTinyMaskModel(dir, "mask").ok());
  {
    std::ofstream(fs::path(dir) / "mask" / "config.yaml") << R"(name: mask
version: "x"
task: face_embedding
input: {width: 16, height: 16, resize: stretch, color: rgb, mean: [0, 0, 0], std: [1, 1, 1]}
decoder: {type: embedding}
)";
  }
  MaskOptions o;
  o.model_dir = dir;
  o.runtime.warmup_runs = 1;
  auto c = MaskClassifier::Create(o);
  ASSERT_TRUE(c.ok());
  absl::Status s = (*c)->Load();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr("classifier"));
  fs::remove_all(dir);
}

TEST_F(TinyModelTest, ReadyAfterLoadWithVersionAndLabels) {
  auto c = Loaded();
  EXPECT_TRUE(c->Readiness().ok());
  EXPECT_EQ(c->version(), "tiny-mask-1");
  EXPECT_THAT(c->labels(), ElementsAre("with_mask", "without_mask", "mask_worn_incorrectly"));
}

TEST_F(TinyModelTest, StartLoadingTurnsReady) {
  MaskOptions o;
  o.model_dir = *dir_;
  o.runtime.warmup_runs = 1;
  auto c = MaskClassifier::Create(o);
  ASSERT_TRUE(c.ok());
  (*c)->StartLoading();
  for (int i = 0; i < 600 && !(*c)->Readiness().ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE((*c)->Readiness().ok()) << (*c)->Readiness();
}

TEST_F(TinyModelTest, CropsKeepTheirOrderAcrossBatches) {
  MaskOptions o;
  o.max_batch = 4;
  auto c = Loaded(o);
  std::vector<cv::Mat> crops;
  std::vector<std::string> want;
  const std::vector<std::pair<cv::Scalar, std::string>> kinds = {
      {kRed, "with_mask"}, {kGreen, "without_mask"}, {kBlue, "mask_worn_incorrectly"}};
  for (int i = 0; i < 11; ++i) {  // 3 batches of 4, 4, 3; sizes vary
    const auto& [colour, label] = kinds[(i * 7) % 3];
    crops.push_back(Solid(20 + i * 3, 30 + i, colour));
    want.push_back(label);
  }
  auto out = c->ClassifyCrops(crops);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), crops.size());
  for (size_t i = 0; i < crops.size(); ++i) {
    const FaceMaskResult& r = (*out)[i];
    EXPECT_EQ(r.label, want[i]) << i;
    EXPECT_GT(r.confidence, 0.99f);
    ASSERT_EQ(r.probabilities.size(), 3u);
    EXPECT_NEAR(std::accumulate(r.probabilities.begin(), r.probabilities.end(), 0.0), 1.0, 1e-5);
    EXPECT_FLOAT_EQ(r.face.box.width, 1.0f);
    EXPECT_FLOAT_EQ(r.face.confidence, 1.0f);
  }
}

TEST_F(TinyModelTest, RefusesEmptyOrNonRgbCrops) {
  auto c = Loaded();
  cv::Mat gray(10, 10, CV_8UC1, cv::Scalar(3));
  EXPECT_EQ(c->ClassifyCrops({cv::Mat()}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c->ClassifyCrops({gray}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TinyModelTest, CropRectGrowsByTheMarginsAndClips) {
  MaskOptions o;
  o.margin_x = 0.25f;
  o.margin_top = 0.5f;
  o.margin_bottom = 0.25f;
  auto c = Loaded(o);
  // A 40x40 box at (40, 40) in a 200x100 image.
  auto r = c->CropRect(runtime::Box{0.2f, 0.4f, 0.2f, 0.4f}, 200, 100);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, cv::Rect(30, 20, 60, 70));
  // At the corner: clipped to the image.
  r = c->CropRect(runtime::Box{0.0f, 0.0f, 0.1f, 0.2f}, 200, 100);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, cv::Rect(0, 0, 25, 25));
  // Partly outside is fine; wholly outside, empty or non-finite is not.
  EXPECT_TRUE(c->CropRect(runtime::Box{0.9f, 0.9f, 0.3f, 0.3f}, 200, 100).ok());
  EXPECT_FALSE(c->CropRect(runtime::Box{1.1f, 0.2f, 0.1f, 0.1f}, 200, 100).ok());
  EXPECT_FALSE(c->CropRect(runtime::Box{-0.5f, 0.2f, 0.4f, 0.1f}, 200, 100).ok());
  EXPECT_FALSE(c->CropRect(runtime::Box{0.1f, 0.2f, 0.0f, 0.1f}, 200, 100).ok());
  EXPECT_FALSE(c->CropRect(runtime::Box{0.1f, 0.2f, NAN, 0.1f}, 200, 100).ok());
}

// An image with a red left half and a blue right half: boxes well inside a half classify by
// its colour, so the right pixels (margin included) reached the model.
TEST_F(TinyModelTest, BoxesAreCutFromTheImage) {
  auto c = Loaded();
  cv::Mat image = Solid(400, 200, kRed);
  image(cv::Rect(200, 0, 200, 200)).setTo(kBlue);
  std::vector<FaceBox> boxes = {{runtime::Box{0.6f, 0.3f, 0.2f, 0.3f}, 1.0f},
                                {runtime::Box{0.1f, 0.3f, 0.2f, 0.3f}, 1.0f}};
  auto out = c->ClassifyBoxes(image, boxes);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0].label, "mask_worn_incorrectly");
  EXPECT_EQ((*out)[1].label, "with_mask");
  EXPECT_FLOAT_EQ((*out)[0].face.box.left, 0.6f);  // the box as given, without the margin
  // A box over the border of the halves sees both colours.
  auto mixed = c->ClassifyBoxes(image, {FaceBox{runtime::Box{0.4f, 0.3f, 0.2f, 0.3f}, 1.0f}});
  ASSERT_TRUE(mixed.ok());
  EXPECT_LT((*mixed)[0].confidence, 0.99f);
  // One bad box fails the call, naming it.
  boxes.push_back({runtime::Box{1.5f, 0.3f, 0.2f, 0.3f}, 1.0f});
  auto bad = c->ClassifyBoxes(image, boxes);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("box 2"));
}

class FakeFinder : public FaceFinder {
 public:
  absl::StatusOr<std::vector<FaceBox>> FindFaces(std::string_view encoded,
                                                 float min_confidence) override {
    seen_bytes = std::string(encoded);
    seen_min_confidence = min_confidence;
    if (!status.ok()) return status;
    return faces;
  }
  absl::Status status;
  std::vector<FaceBox> faces;
  std::string seen_bytes;
  float seen_min_confidence = -1;
};

TEST_F(TinyModelTest, ImageWithoutBoxesAsksTheFinderLargestFirst) {
  auto c = Loaded();
  cv::Mat image = Solid(400, 200, kRed);
  image(cv::Rect(200, 0, 200, 200)).setTo(kGreen);
  FakeFinder finder;
  finder.faces = {{runtime::Box{0.05f, 0.2f, 0.1f, 0.2f}, 0.9f},   // small, red
                  {runtime::Box{0.6f, 0.2f, 0.25f, 0.5f}, 0.7f},   // large, green
                  {runtime::Box{0.3f, 0.2f, 0.1f, 0.2f}, 0.2f}};   // below min confidence
  auto out = c->ClassifyImage(image, "jpeg bytes", 0.5f, &finder);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(finder.seen_bytes, "jpeg bytes");
  EXPECT_FLOAT_EQ(finder.seen_min_confidence, 0.5f);
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0].label, "without_mask");
  EXPECT_FLOAT_EQ((*out)[0].face.confidence, 0.7f);
  EXPECT_EQ((*out)[1].label, "with_mask");
  EXPECT_FLOAT_EQ((*out)[1].face.confidence, 0.9f);

  finder.faces.clear();
  out = c->ClassifyImage(image, "x", 0.5f, &finder);
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->empty());

  finder.status = absl::UnavailableError("the face detector at h:1 is unavailable");
  EXPECT_EQ(c->ClassifyImage(image, "x", 0.5f, &finder).status(), finder.status);
  EXPECT_EQ(c->ClassifyImage(image, "x", 0.5f, nullptr).status().code(),
            absl::StatusCode::kUnavailable);
}

// ---- the trained model ----

std::string ModelDir() {
  if (const char* d = std::getenv("STRATUS_MODEL_DIR"); d && *d) return d;
  if (const char* c = std::getenv("STRATUS_CACHE"); c && *c) return std::string(c) + "/models";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/root") + "/.cache/stratus/models";
}

bool RequireModels() {
  const char* r = std::getenv("STRATUS_REQUIRE_MODELS");
  return r != nullptr && std::string(r) == "1";
}

std::string SourceDir() {
  const char* s = std::getenv("STRATUS_SOURCE_DIR");
  return s && *s ? s : STRATUS_SOURCE_DIR_FALLBACK;
}

// The test split of jobs/mask.yaml (10%, never used for training or model selection), read the
// way the trainer reads it: same job file, same seed, same data folder.
TEST(TrainedMaskModelTest, HeldOutCropsAreClassifiedWell) {
  const std::string model_dir = ModelDir();
  if (!fs::exists(fs::path(model_dir) / "mask" / "model.pt")) {
    if (RequireModels()) FAIL() << "no trained mask model in " << model_dir << " (make models)";
    GTEST_SKIP() << "no trained mask model in " << model_dir;
  }
  auto job = training::LoadJob(SourceDir() + "/jobs/mask.yaml");
  ASSERT_TRUE(job.ok()) << job.status();
  auto data = training::LoadDataset(*job);
  if (!data.ok()) {
    if (RequireModels()) FAIL() << "the mask job's data is missing: " << data.status();
    GTEST_SKIP() << "the mask job's data (stratus-prepare-masks output) is missing: "
                 << data.status();
  }
  ASSERT_GT(data->test.size(), 100u);
  MaskOptions o;
  o.model_dir = model_dir;
  auto c = MaskClassifier::Create(o);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Load().ok()) << (*c)->Readiness();
  const std::vector<std::string> labels = (*c)->labels();
  ASSERT_EQ(labels, job->labels);
  std::map<std::string, std::pair<int, int>> per_class;  // label -> (right, total)
  int right = 0;
  std::vector<cv::Mat> crops;
  std::vector<int> truth;
  auto flush = [&] {
    auto out = (*c)->ClassifyCrops(crops);
    ASSERT_TRUE(out.ok()) << out.status();
    for (size_t i = 0; i < crops.size(); ++i) {
      const std::string& want = labels[static_cast<size_t>(truth[i])];
      const bool ok = (*out)[i].label == want;
      right += ok;
      per_class[want].first += ok;
      per_class[want].second += 1;
    }
    crops.clear();
    truth.clear();
  };
  for (const training::Example& e : data->test) {
    auto bytes = ReadImageFile(e.text, 15 << 20);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    auto rgb = DecodeImage(*bytes);
    ASSERT_TRUE(rgb.ok()) << e.text << ": " << rgb.status();
    crops.push_back(*rgb);
    truth.push_back(e.label);
    if (crops.size() == 32) flush();
  }
  if (!crops.empty()) flush();
  const double accuracy = double(right) / double(data->test.size());
  std::cout << "held-out test split: " << data->test.size() << " crops, accuracy " << accuracy
            << "\n";
  for (const auto& [label, rt] : per_class) {
    const double recall = double(rt.first) / std::max(1, rt.second);
    std::cout << "  " << label << ": recall " << recall << " (" << rt.first << "/" << rt.second
              << ")\n";
    EXPECT_GE(recall, 0.75) << label;
  }
  EXPECT_GE(accuracy, 0.88);
}

}  // namespace
}  // namespace stratus::mask
