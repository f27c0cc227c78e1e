#include "common/flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <utility>

namespace stratus {
namespace {

std::vector<char*> Argv(std::vector<std::string>& args) {
  std::vector<char*> out;
  for (auto& a : args) out.push_back(a.data());
  return out;
}

TEST(FlagSetTest, EnvironmentThenFlagsOverride) {
  setenv("STRATUS_TEST_PORT", "7000", 1);
  setenv("STRATUS_TEST_NAME", "from-env", 1);
  int port = 1;
  std::string name = "default";
  bool verbose = false;
  FlagSet flags("prog", "test");
  flags.Int("port", "STRATUS_TEST_PORT", &port, "port");
  flags.String("name", "STRATUS_TEST_NAME", &name, "name");
  flags.Bool("verbose", "", &verbose, "verbose");
  std::vector<std::string> args = {"prog", "--port=8000", "pos1", "--verbose", "pos2"};
  auto argv = Argv(args);
  ASSERT_TRUE(flags.Parse(argv.size(), argv.data()).ok());
  EXPECT_EQ(port, 8000);
  EXPECT_EQ(name, "from-env");
  EXPECT_TRUE(verbose);
  EXPECT_THAT(flags.positional(), testing::ElementsAre("pos1", "pos2"));
  unsetenv("STRATUS_TEST_PORT");
  unsetenv("STRATUS_TEST_NAME");
}

TEST(FlagSetTest, SeparateValueAndNegatedBool) {
  int n = 0;
  bool b = true;
  FlagSet flags("prog", "test");
  flags.Int("n", "", &n, "n");
  flags.Bool("color", "", &b, "color");
  std::vector<std::string> args = {"prog", "--n", "42", "--no-color"};
  auto argv = Argv(args);
  ASSERT_TRUE(flags.Parse(argv.size(), argv.data()).ok());
  EXPECT_EQ(n, 42);
  EXPECT_FALSE(b);
}

TEST(FlagSetTest, BoolsTakeOnAndOff) {
  for (const auto& [value, want] : std::vector<std::pair<std::string, bool>>{
           {"off", false}, {"OFF", false}, {"on", true}, {"no", false}, {"yes", true},
           {"0", false}, {"true", true}}) {
    bool b = !want;
    FlagSet flags("prog", "test");
    flags.Bool("color", "", &b, "color");
    std::vector<std::string> args = {"prog", "--color=" + value};
    auto argv = Argv(args);
    ASSERT_TRUE(flags.Parse(argv.size(), argv.data()).ok()) << value;
    EXPECT_EQ(b, want) << value;
  }
  bool b = true;
  FlagSet flags("prog", "test");
  flags.Bool("color", "", &b, "color");
  std::vector<std::string> args = {"prog", "--color=onn"};
  auto argv = Argv(args);
  EXPECT_EQ(flags.Parse(argv.size(), argv.data()).code(), absl::StatusCode::kInvalidArgument);
}

TEST(FlagSetTest, ErrorsNameTheFlag) {
  int n = 0;
  FlagSet flags("prog", "test");
  flags.Int("n", "", &n, "n");
  std::vector<std::string> bad = {"prog", "--n=abc"};
  auto argv = Argv(bad);
  auto s = flags.Parse(argv.size(), argv.data());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), testing::HasSubstr("abc"));

  FlagSet flags2("prog", "test");
  flags2.Int("n", "", &n, "n");
  std::vector<std::string> unknown = {"prog", "--bogus=1"};
  auto argv2 = Argv(unknown);
  auto s2 = flags2.Parse(argv2.size(), argv2.data());
  EXPECT_THAT(std::string(s2.message()), testing::HasSubstr("--bogus"));

  FlagSet flags3("prog", "test");
  flags3.Int("n", "", &n, "n");
  std::vector<std::string> missing = {"prog", "--n"};
  auto argv3 = Argv(missing);
  EXPECT_FALSE(flags3.Parse(argv3.size(), argv3.data()).ok());
}

TEST(FlagSetTest, ListsFromEnvironmentAreReplacedByFlags) {
  setenv("STRATUS_TEST_LIST", "a,b", 1);
  std::vector<std::string> list;
  FlagSet flags("prog", "test");
  flags.StringList("item", "STRATUS_TEST_LIST", &list, "items");
  std::vector<std::string> none = {"prog"};
  auto argv = Argv(none);
  ASSERT_TRUE(flags.Parse(argv.size(), argv.data()).ok());
  EXPECT_THAT(list, testing::ElementsAre("a", "b"));

  std::vector<std::string> list2;
  FlagSet flags2("prog", "test");
  flags2.StringList("item", "STRATUS_TEST_LIST", &list2, "items");
  std::vector<std::string> args = {"prog", "--item=x", "--item", "y"};
  auto argv2 = Argv(args);
  ASSERT_TRUE(flags2.Parse(argv2.size(), argv2.data()).ok());
  EXPECT_THAT(list2, testing::ElementsAre("x", "y"));
  unsetenv("STRATUS_TEST_LIST");
}

TEST(FlagSetTest, StringMapsFromEnvironmentAndFlags) {
  setenv("STRATUS_TEST_MAP", "videos=/srv/v,docs=/srv/d", 1);
  std::map<std::string, std::string> map;
  FlagSet flags("prog", "test");
  flags.StringMap("bucket", "STRATUS_TEST_MAP", &map, "buckets");
  std::vector<std::string> none = {"prog"};
  auto argv = Argv(none);
  ASSERT_TRUE(flags.Parse(argv.size(), argv.data()).ok());
  EXPECT_EQ(map, (std::map<std::string, std::string>{{"videos", "/srv/v"}, {"docs", "/srv/d"}}));

  // Flags replace the environment's entries; the value is everything after the first '='.
  std::vector<std::string> args = {"prog", "--bucket=t=http://h/p?a=b", "--bucket", "t=x=y"};
  auto argv2 = Argv(args);
  ASSERT_TRUE(flags.Parse(argv2.size(), argv2.data()).ok());
  EXPECT_EQ(map, (std::map<std::string, std::string>{{"t", "x=y"}}));

  for (std::string bad : {"--bucket=novalue", "--bucket==v"}) {
    std::vector<std::string> b = {"prog", bad};
    auto argv3 = Argv(b);
    absl::Status s = flags.Parse(argv3.size(), argv3.data());
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), testing::HasSubstr("NAME=VALUE")) << bad;
  }
  unsetenv("STRATUS_TEST_MAP");
}

TEST(FlagSetTest, DurationsAndSizes) {
  setenv("STRATUS_TEST_KEEP", "7d", 1);
  std::chrono::seconds keep{0}, every{600};
  int64_t max_bytes = int64_t{2} << 30, spool = 0;
  FlagSet flags("prog", "test");
  flags.Duration("keep", "STRATUS_TEST_KEEP", &keep, "keep");
  flags.Duration("every", "", &every, "every");
  flags.Bytes("max-bytes", "", &max_bytes, "max");
  flags.Bytes("spool", "", &spool, "spool");
  EXPECT_THAT(flags.Usage(), testing::HasSubstr("(default: 10m)"));
  EXPECT_THAT(flags.Usage(), testing::HasSubstr("(default: 2GiB)"));
  std::vector<std::string> args = {"prog", "--every=1h30m", "--spool", "512M"};
  auto argv = Argv(args);
  ASSERT_TRUE(flags.Parse(argv.size(), argv.data()).ok());
  EXPECT_EQ(keep, std::chrono::hours(24 * 7));
  EXPECT_EQ(every, std::chrono::minutes(90));
  EXPECT_EQ(spool, int64_t{512} << 20);
  EXPECT_EQ(max_bytes, int64_t{2} << 30);
  unsetenv("STRATUS_TEST_KEEP");

  std::chrono::seconds d;
  int64_t b = 0;
  ASSERT_TRUE(ParseDurationFlag("45", &d).ok());
  EXPECT_EQ(d, std::chrono::seconds(45));
  ASSERT_TRUE(ParseBytesFlag("3KiB", &b).ok());
  EXPECT_EQ(b, 3072);
  for (const char* bad : {"", "d", "7x", "7d3", "-5", "1.5h"}) {
    EXPECT_FALSE(ParseDurationFlag(bad, &d).ok()) << bad;
  }
  for (const char* bad : {"", "G", "2X", "-1", "1.5G"}) {
    EXPECT_FALSE(ParseBytesFlag(bad, &b).ok()) << bad;
  }
  EXPECT_EQ(FormatDurationFlag(std::chrono::seconds(86400 + 90)), "1d1m30s");
  EXPECT_EQ(FormatBytesFlag(1000), "1000");

  FlagSet flags2("prog", "test");
  flags2.Duration("keep", "", &keep, "keep");
  std::vector<std::string> wrong = {"prog", "--keep=soon"};
  auto argv2 = Argv(wrong);
  auto s = flags2.Parse(argv2.size(), argv2.data());
  EXPECT_THAT(std::string(s.message()), testing::HasSubstr("keep: not a duration: 'soon'"));
}

TEST(FlagSetTest, VersionExitsZeroWithoutParsingTheRest) {
  FlagSet flags("stratus-x", "x");
  char prog[] = "prog", version[] = "--version", bad[] = "--no-such-flag";
  char* argv[] = {prog, version, bad};
  EXPECT_EXIT((void)flags.Parse(3, argv), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace stratus
