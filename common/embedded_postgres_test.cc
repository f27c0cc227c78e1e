#include "common/embedded_postgres.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace stratus {
namespace {

namespace fs = std::filesystem;

bool Connects(const std::string& url) {
  try {
    pqxx::connection c(url + (url.find('?') == std::string::npos ? "?" : "&") +
                       "connect_timeout=5");
    pqxx::nontransaction(c).exec("SELECT 1");
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

mode_t Mode(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

class EmbeddedPostgresTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / absl::StrCat("stratus-pg-test-", getpid());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(EmbeddedPostgresTest, EveryConnectionNeedsThePassword) {
  auto pg = EmbeddedPostgres::Start({.data_dir = (dir_ / "pg").string()});
  ASSERT_TRUE(pg.ok()) << pg.status();
  const std::string url = (*pg)->url();
  EXPECT_TRUE(Connects(url));
  const fs::path password_file = dir_ / "pg" / "stratus.password";
  ASSERT_TRUE(fs::exists(password_file));
  EXPECT_EQ(Mode(password_file), 0600);
  std::string password;
  std::getline(std::ifstream(password_file), password);
  EXPECT_GE(password.size(), 32u);
  EXPECT_NE(url.find(":" + password + "@"), std::string::npos);
  const int port = (*pg)->port();
  // No password, a wrong one, another address family or the Unix socket without one: refused.
  EXPECT_FALSE(Connects(absl::StrCat("postgresql://postgres@127.0.0.1:", port, "/stratus")));
  EXPECT_FALSE(Connects(absl::StrCat("postgresql://postgres:wrong@127.0.0.1:", port, "/stratus")));
  EXPECT_FALSE(Connects(
      absl::StrCat("postgresql://postgres@/stratus?host=", (*pg)->cluster_dir(), "&port=", port)));
  // Loopback only.
  std::ifstream hba(fs::path((*pg)->cluster_dir()) / "pg_hba.conf");
  std::string text((std::istreambuf_iterator<char>(hba)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find("trust"), std::string::npos);
  EXPECT_NE(text.find("scram-sha-256"), std::string::npos);

  // A restart keeps the password.
  ASSERT_TRUE((*pg)->Restart().ok());
  EXPECT_TRUE(Connects(url));
  pg->reset();
  auto again = EmbeddedPostgres::Start({.data_dir = (dir_ / "pg").string(), .port = port});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->url(), url);
  EXPECT_TRUE(Connects(url));
}

TEST_F(EmbeddedPostgresTest, ATrustClusterGetsAPassword) {
  const fs::path data = dir_ / "old";
  {
    auto pg = EmbeddedPostgres::Start({.data_dir = data.string()});
    ASSERT_TRUE(pg.ok()) << pg.status();
  }
  // As clusters were made before passwords: trust, and no password file.
  fs::remove(data / "stratus.password");
  std::ofstream(fs::path(data) / "pg_hba.conf", std::ios::trunc)
      << "local all all trust\nhost all all 127.0.0.1/32 trust\n";
  auto pg = EmbeddedPostgres::Start({.data_dir = data.string()});
  ASSERT_TRUE(pg.ok()) << pg.status();
  EXPECT_TRUE(Connects((*pg)->url()));
  EXPECT_TRUE(fs::exists(data / "stratus.password"));
  EXPECT_FALSE(
      Connects(absl::StrCat("postgresql://postgres@127.0.0.1:", (*pg)->port(), "/stratus")));
}

// Running as root with a data folder the postgres user cannot reach: no folder above it changes
// mode; the cluster lives under the postgres user's home instead.
TEST_F(EmbeddedPostgresTest, UnreachableDataFolderChangesNoParent) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (the cluster then runs as user postgres)";
  const fs::path closed = dir_ / "closed";
  fs::create_directories(closed);
  chmod(closed.c_str(), 0700);
  const mode_t before = Mode(closed), tmp_before = Mode(dir_);
  auto pg = EmbeddedPostgres::Start({.data_dir = (closed / "var" / "pg").string()});
  ASSERT_TRUE(pg.ok()) << pg.status();
  EXPECT_EQ(Mode(closed), before);
  EXPECT_EQ(Mode(dir_), tmp_before);
  EXPECT_NE((*pg)->cluster_dir().find("/stratus/"), std::string::npos) << (*pg)->cluster_dir();
  EXPECT_TRUE(fs::is_symlink(closed / "var" / "pg" / "cluster"));
  EXPECT_TRUE(Connects((*pg)->url()));
  const std::string cluster = (*pg)->cluster_dir();
  pg->reset();
  fs::remove_all(cluster);
}

}  // namespace
}  // namespace stratus
