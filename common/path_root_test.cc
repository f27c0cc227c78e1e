#include "common/path_root.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"

namespace stratus {
namespace {

namespace fs = std::filesystem;

TEST(IsUnderRootTest, ComparesWholeComponents) {
  EXPECT_TRUE(IsUnderRoot("/data/images/a.jpg", "/data/images"));
  EXPECT_TRUE(IsUnderRoot("/data/images/a.jpg", "/data/images/"));
  EXPECT_TRUE(IsUnderRoot("/data/images", "/data/images"));
  EXPECT_TRUE(IsUnderRoot("/etc/passwd", "/"));
  EXPECT_FALSE(IsUnderRoot("/data/images-private/a.jpg", "/data/images"));
  EXPECT_FALSE(IsUnderRoot("/data/imagesX", "/data/images"));
  EXPECT_FALSE(IsUnderRoot("/data", "/data/images"));
  EXPECT_FALSE(IsUnderRoot("/data/images/../secret", "/data/images"));
  EXPECT_FALSE(IsUnderRoot("", "/data"));
  EXPECT_FALSE(IsUnderRoot("/data/x", ""));
}

class ResolveUnderRootTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / absl::StrCat("stratus-path-root-", getpid());
    fs::create_directories(dir_ / "media");
    fs::create_directories(dir_ / "media-private");
    std::ofstream(dir_ / "media" / "a.mp4") << "a";
    std::ofstream(dir_ / "media-private" / "b.mp4") << "b";
    fs::create_symlink(dir_ / "media-private" / "b.mp4", dir_ / "media" / "link.mp4");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string P(const std::string& rel) const { return (dir_ / rel).string(); }
  fs::path dir_;
};

TEST_F(ResolveUnderRootTest, AcceptsFilesInTheRoot) {
  auto r = ResolveUnderRoot(P("media/a.mp4"), P("media"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, fs::canonical(P("media/a.mp4")));
  EXPECT_TRUE(ResolveUnderRoot(P("media/./sub/../a.mp4"), P("media/")).ok());
  EXPECT_TRUE(ResolveUnderRoot(P("media/not-yet.mp4"), P("media")).ok());
}

TEST_F(ResolveUnderRootTest, RefusesSiblingsDotDotAndSymlinksOut) {
  // A sibling folder whose name starts with the root's name.
  EXPECT_EQ(ResolveUnderRoot(P("media-private/b.mp4"), P("media")).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ResolveUnderRoot(P("media/../media-private/b.mp4"), P("media")).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ResolveUnderRoot(P("media/link.mp4"), P("media")).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ResolveUnderRoot("/etc/passwd", P("media")).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ResolveUnderRoots(P("media/a.mp4"), {}).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ResolveUnderRoot(std::string("a\0b", 3), P("media")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveUnderRoot(P("media/a.mp4"), "").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ResolveUnderRootTest, TriesEveryRoot) {
  auto r = ResolveUnderRoots(P("media-private/b.mp4"), {P("media"), P("media-private")});
  ASSERT_TRUE(r.ok()) << r.status();
}

}  // namespace
}  // namespace stratus
