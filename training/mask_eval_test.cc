// The service's crop and the hash splits; then the trained mask classifier
// ($STRATUS_MODEL_DIR/mask, with the imported `faces` detector) on fixed subsets of the
// development sets, cut as the mask service cuts faces: masks drawn by another generator than
// ours (the test part of ../shared/data/masks-maskedfacenet, never trained on) and the MaskSplitOf
// test part of ../shared/data/masks. The model tests are skipped without the models or the
// data, failed instead under STRATUS_REQUIRE_MODELS=1.
#include "training/mask_eval.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "common/paths.h"
#include "gtest/gtest.h"

namespace stratus::training {
namespace {

namespace fs = std::filesystem;

TEST(MaskEvalCropTest, ServiceCropGrowsTheBoxByTheServiceMargins) {
  // A 100x100 box at (100, 100) in a 400x300 image: 18 px each side, 15 above, 19 below.
  EXPECT_EQ(MaskServiceCrop(100, 100, 100, 100, 400, 300), cv::Rect(82, 85, 136, 134));
  // Clipped at the border, margins taken from the part of the box inside the image.
  EXPECT_EQ(MaskServiceCrop(-20, 250, 100, 100, 400, 300), cv::Rect(0, 243, 94, 57));
  EXPECT_TRUE(MaskServiceCrop(500, 500, 10, 10, 400, 300).empty());
}

TEST(MaskEvalCropTest, SplitsHoldTheirShares) {
  int masks[3] = {}, dev[3] = {};
  for (int i = 0; i < 2000; ++i) {
    char name[16];
    std::snprintf(name, sizeof(name), "%05d.jpg", i);
    ++masks[static_cast<int>(MaskSplitOf(name))];
    ++dev[static_cast<int>(DevSetSplitOf(name))];
  }
  EXPECT_NEAR(masks[static_cast<int>(MaskSplit::kTrain)], 1600, 80);
  EXPECT_NEAR(masks[static_cast<int>(MaskSplit::kTest)], 200, 50);
  EXPECT_NEAR(dev[static_cast<int>(MaskSplit::kTrain)], 800, 80);
  EXPECT_NEAR(dev[static_cast<int>(MaskSplit::kValidation)], 400, 60);
  EXPECT_NEAR(dev[static_cast<int>(MaskSplit::kTest)], 800, 80);
  EXPECT_EQ(DevSetSplitOf("00002.jpg"), DevSetSplitOf("00002.jpg"));
}

std::string ModelDir() {
  if (const char* d = std::getenv("STRATUS_MODEL_DIR"); d && *d) return d;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/root") + "/.cache/stratus/models";
}

bool RequireModels() {
  const char* r = std::getenv("STRATUS_REQUIRE_MODELS");
  return r != nullptr && std::string(r) == "1";
}

class MaskEvalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = ModelDir();
    for (const char* m : {"faces", "mask"}) {
      if (!fs::exists(fs::path(dir) / m / "model.pt")) {
        if (RequireModels()) FAIL() << "STRATUS_REQUIRE_MODELS=1 but " << dir << " has no " << m;
        GTEST_SKIP() << dir << " has no model '" << m << "' (make models)";
      }
    }
    auto e = MaskEvaluator::Create({.model_dir = dir});
    ASSERT_TRUE(e.ok()) << e.status();
    eval_ = std::move(*e);
  }

  // The photos of `set` under the shared data folder, or a skip (failure when required).
  bool Have(const fs::path& set) {
    if (fs::is_directory(set)) return true;
    if (RequireModels()) ADD_FAILURE() << "no data set " << set;
    return false;
  }

  std::unique_ptr<MaskEvaluator> eval_;
};

// Every 4th photo of the test part: masks worn correctly, and with the nose or the mouth out.
TEST_F(MaskEvalTest, MaskedFaceNetSubset) {
  const fs::path set = SharedDataDir() / "masks-maskedfacenet";
  if (!Have(set)) GTEST_SKIP() << "no " << set;
  auto photos = ListLabelledPhotos(set.string(), 4, MaskSplit::kTest);
  ASSERT_TRUE(photos.ok()) << photos.status();
  ASSERT_GT(photos->size(), 40u);
  auto r = eval_->Evaluate(*photos);
  ASSERT_TRUE(r.ok()) << r.status();
  std::cout << r->Format("maskedfacenet test part, every 4th");
  EXPECT_GE(r->Recall(kWornIncorrectly), 0.8);
  EXPECT_GE(r->Recall(kWithMask), 0.85);
  EXPECT_GE(r->Accuracy(), 0.85);
}

// Every 6th photo of the MaskSplitOf test part of ../shared/data/masks (real masks, bare
// faces; jobs/mask.yaml's random split trained on most of them).
TEST_F(MaskEvalTest, HeldOutRealPhotosSubset) {
  const fs::path set = SharedDataDir() / "masks";
  if (!Have(set)) GTEST_SKIP() << "no " << set;
  auto photos = ListHeldOutMaskPhotos(set.string(), 6);
  ASSERT_TRUE(photos.ok()) << photos.status();
  ASSERT_GT(photos->size(), 50u);
  auto r = eval_->Evaluate(*photos);
  ASSERT_TRUE(r.ok()) << r.status();
  std::cout << r->Format("../shared/data/masks test part, every 6th");
  EXPECT_GE(r->CoveredAccuracy(), 0.9);
  EXPECT_GE(r->Recall(kWithMask), 0.85);
  EXPECT_GE(r->Recall(kWithoutMask), 0.85);
}

}  // namespace
}  // namespace stratus::training
