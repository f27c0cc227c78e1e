#include "common/aws/credentials.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"

namespace stratus::aws {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

class CredentialsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat("stratus-aws-creds-", ::getpid(), "-",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static std::string Slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::filesystem::path dir_;
};

TEST(GenerateCredentials, LooksLikeAws) {
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    absl::StatusOr<AwsCredentials> c = GenerateCredentials();
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_THAT(c->access_key_id, MatchesRegex("AKIA[A-Z2-7]{16}"));
    EXPECT_EQ(c->secret_access_key.size(), 40u);
    EXPECT_THAT(c->secret_access_key, MatchesRegex("[A-Za-z0-9+/]{40}"));
    EXPECT_TRUE(c->session_token.empty());
    ids.insert(c->access_key_id);
  }
  EXPECT_EQ(ids.size(), 50u);  // 80 random bits each: a collision means no randomness
}

TEST(CredentialsStore, AddAndFind) {
  CredentialsStore store;
  EXPECT_TRUE(store.Add({"AKIAONE", "secret1", ""}).ok());
  EXPECT_TRUE(store.Add({"AKIAONE", "secret2", ""}).ok());  // replaces
  EXPECT_FALSE(store.Add({"", "s", ""}).ok());
  EXPECT_FALSE(store.Add({"AKIA/BAD", "s", ""}).ok());
  EXPECT_FALSE(store.Add({"AKIATWO", "", ""}).ok());
  ASSERT_TRUE(store.Find("AKIAONE").has_value());
  EXPECT_EQ(store.Find("AKIAONE")->secret_access_key, "secret2");
  EXPECT_FALSE(store.Find("AKIATWO").has_value());
  EXPECT_EQ(store.size(), 1u);
}

TEST_F(CredentialsFileTest, WriteThenReadWithMode0600) {
  std::string path = (dir_ / "sub" / "credentials").string();
  AwsCredentials c{"AKIAEXAMPLE1234567", "abc/def+ghi", ""};
  ASSERT_TRUE(WriteSharedCredentialsFile(path, "stratus", c).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(Slurp(path),
            "[stratus]\naws_access_key_id = AKIAEXAMPLE1234567\n"
            "aws_secret_access_key = abc/def+ghi\n");
  absl::StatusOr<AwsCredentials> back = ReadSharedCredentialsFile(path, "stratus");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->access_key_id, c.access_key_id);
  EXPECT_EQ(back->secret_access_key, c.secret_access_key);
  // No temporary files left behind: the file and its lock only.
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir_ / "sub")) {
    names.insert(e.path().filename().string());
  }
  EXPECT_EQ(names, (std::set<std::string>{"credentials", "credentials.lock"}));
}

TEST_F(CredentialsFileTest, KeepsOtherProfilesAndReplacesOwn) {
  std::filesystem::create_directories(dir_);
  std::string path = (dir_ / "credentials").string();
  std::ofstream(path)
      << "# my keys\n[default]\naws_access_key_id=AKIADEFAULT\n"
         "aws_secret_access_key = dflt\n\n[stratus]\naws_access_key_id = OLD\n"
         "aws_secret_access_key = old\n[other]\n"
         "AWS_ACCESS_KEY_ID = AKIAOTHER\naws_secret_access_key=oth ; not a comment\n";
  ::chmod(path.c_str(), 0644);
  ASSERT_TRUE(WriteSharedCredentialsFile(path, "stratus", {"AKIANEW", "new", "tok"}).ok());
  std::string text = Slurp(path);
  EXPECT_THAT(text, HasSubstr("# my keys\n"));
  EXPECT_THAT(text, HasSubstr("[default]\naws_access_key_id=AKIADEFAULT\n"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("OLD")));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto d = ReadSharedCredentialsFile(path, "default");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->access_key_id, "AKIADEFAULT");
  EXPECT_EQ(d->secret_access_key, "dflt");
  auto o = ReadSharedCredentialsFile(path, "other");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->access_key_id, "AKIAOTHER");
  auto s = ReadSharedCredentialsFile(path, "stratus");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->access_key_id, "AKIANEW");
  EXPECT_EQ(s->session_token, "tok");
}

TEST_F(CredentialsFileTest, ReadErrors) {
  std::filesystem::create_directories(dir_);
  std::string path = (dir_ / "credentials").string();
  EXPECT_TRUE(absl::IsNotFound(ReadSharedCredentialsFile(path).status()));
  std::ofstream(path) << "[stratus]\naws_access_key_id = AKIAX\n";
  EXPECT_TRUE(absl::IsInvalidArgument(ReadSharedCredentialsFile(path).status()));
  EXPECT_TRUE(absl::IsNotFound(ReadSharedCredentialsFile(path, "nope").status()));
  EXPECT_FALSE(WriteSharedCredentialsFile(path, "bad]name", {"AKIAX", "s", ""}).ok());
  EXPECT_FALSE(WriteSharedCredentialsFile(path, "stratus", {"AKIAX", "s\nx", ""}).ok());
}

TEST_F(CredentialsFileTest, LoadCredentialsPrecedenceAndFirstStart) {
  std::string path = (dir_ / "var" / "credentials").string();
  CredentialSources src;
  src.shared_credentials_file = path;
  EXPECT_TRUE(absl::IsNotFound(LoadCredentials(src).status()));

  src.create_if_missing = true;
  absl::StatusOr<AwsCredentials> first = LoadCredentials(src);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_THAT(first->access_key_id, MatchesRegex("AKIA[A-Z2-7]{16}"));
  // Second start reads the same keys.
  absl::StatusOr<AwsCredentials> second = LoadCredentials(src);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->access_key_id, first->access_key_id);
  EXPECT_EQ(second->secret_access_key, first->secret_access_key);

  // Explicit keys win; with write_explicit_keys they land in the file.
  src.access_key_id = "AKIAEXPLICIT";
  src.secret_access_key = "sekrit";
  src.write_explicit_keys = true;
  absl::StatusOr<AwsCredentials> expl = LoadCredentials(src);
  ASSERT_TRUE(expl.ok());
  EXPECT_EQ(expl->access_key_id, "AKIAEXPLICIT");
  EXPECT_EQ(ReadSharedCredentialsFile(path)->access_key_id, "AKIAEXPLICIT");

  src.secret_access_key = "";
  EXPECT_TRUE(absl::IsInvalidArgument(LoadCredentials(src).status()));
}

TEST_F(CredentialsFileTest, ConcurrentFirstStartsAgreeOnOneKeyPair) {
  // Separate open file descriptions, so flock contends between threads as between processes.
  std::string path = (dir_ / "var" / "credentials").string();
  CredentialSources src;
  src.shared_credentials_file = path;
  src.create_if_missing = true;
  std::vector<std::string> ids(16);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < ids.size(); ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<AwsCredentials> c = LoadCredentials(src);
      ids[i] = c.ok() ? c->access_key_id : c.status().ToString();
    });
  }
  for (auto& t : threads) t.join();
  for (const std::string& id : ids) EXPECT_EQ(id, ids[0]);
  EXPECT_EQ(ReadSharedCredentialsFile(path)->access_key_id, ids[0]);
}

}  // namespace
}  // namespace stratus::aws
