// The trained mask classifier ($STRATUS_MODEL_DIR/mask, with the imported `faces` detector) on
// fixed subsets of the development sets, cut as the mask service cuts faces: masks drawn by
// another generator than ours (../shared/data/masks-maskedfacenet, never trained on) and the
// test split of ../shared/data/masks (never trained on). Skipped without the models or the
// data, failed instead under STRATUS_REQUIRE_MODELS=1.
#include "training/mask_eval.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "common/paths.h"
#include "gtest/gtest.h"

namespace stratus::training {
namespace {

namespace fs = std::filesystem;

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

// Every 10th photo: 30 masks worn correctly, 20 with the nose or the mouth out.
TEST_F(MaskEvalTest, MaskedFaceNetSubset) {
  const fs::path set = SharedDataDir() / "masks-maskedfacenet";
  if (!Have(set)) GTEST_SKIP() << "no " << set;
  auto photos = ListLabelledPhotos(set.string(), 10);
  ASSERT_TRUE(photos.ok()) << photos.status();
  ASSERT_EQ(photos->size(), 50u);
  auto r = eval_->Evaluate(*photos);
  ASSERT_TRUE(r.ok()) << r.status();
  std::cout << r->Format("maskedfacenet, every 10th");
  EXPECT_GE(r->Recall(kWornIncorrectly), 0.6);
  EXPECT_GE(r->Recall(kWithMask), 0.8);
  EXPECT_GE(r->Accuracy(), 0.75);
}

// Every 4th photo of the test split of ../shared/data/masks (real masks, bare faces).
TEST_F(MaskEvalTest, HeldOutRealPhotosSubset) {
  const fs::path set = SharedDataDir() / "masks";
  if (!Have(set)) GTEST_SKIP() << "no " << set;
  auto photos = ListHeldOutMaskPhotos(set.string(), 4);
  ASSERT_TRUE(photos.ok()) << photos.status();
  ASSERT_GT(photos->size(), 60u);
  auto r = eval_->Evaluate(*photos);
  ASSERT_TRUE(r.ok()) << r.status();
  std::cout << r->Format("../shared/data/masks test split, every 4th");
  EXPECT_GE(r->CoveredAccuracy(), 0.9);
  EXPECT_GE(r->Recall(kWithMask), 0.85);
  EXPECT_GE(r->Recall(kWithoutMask), 0.85);
}

}  // namespace
}  // namespace stratus::training
