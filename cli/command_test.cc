#include "cli/command.h"

#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "stratus/v1/detector.pb.h"

namespace stratus::cli {
namespace {

using ::testing::HasSubstr;

struct Argv {
  explicit Argv(std::vector<std::string> w) : words(std::move(w)) {
    for (auto& s : words) ptrs.push_back(s.data());
    ptrs.push_back(nullptr);
  }
  int argc() const { return static_cast<int>(words.size()); }
  char** argv() { return ptrs.data(); }
  std::vector<std::string> words;
  std::vector<char*> ptrs;
};

TEST(ExitCodeTest, UnreachableIsThreeOtherFailuresOne) {
  EXPECT_EQ(ExitCodeFor(grpc::Status::OK), kExitOk);
  EXPECT_EQ(ExitCodeFor(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down")), kExitUnavailable);
  EXPECT_EQ(ExitCodeFor(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "slow")),
            kExitUnavailable);
  EXPECT_EQ(ExitCodeFor(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad")), kExitFailed);
  EXPECT_EQ(ExitCodeFor(grpc::Status(grpc::StatusCode::NOT_FOUND, "gone")), kExitFailed);
  EXPECT_EQ(CodeName(grpc::StatusCode::INVALID_ARGUMENT), "INVALID_ARGUMENT");
}

TEST(ParseFlagsTest, HelpIsZeroBadFlagIsUsage) {
  {
    FlagSet flags("stratus x", "X.");
    Argv a({"x", "--help"});
    int code = -1;
    EXPECT_FALSE(ParseFlags(flags, a.argc(), a.argv(), &code));
    EXPECT_EQ(code, kExitOk);
  }
  {
    FlagSet flags("stratus x", "X.");
    Argv a({"x", "--nope"});
    int code = -1;
    EXPECT_FALSE(ParseFlags(flags, a.argc(), a.argv(), &code));
    EXPECT_EQ(code, kExitUsage);
  }
  {
    FlagSet flags("stratus x", "X.");
    Argv a({"x", "arg"});
    int code = -1;
    EXPECT_TRUE(ParseFlags(flags, a.argc(), a.argv(), &code));
    EXPECT_EQ(flags.positional(), std::vector<std::string>{"arg"});
  }
}

Output Parse(std::vector<std::string> words, bool table, int* code) {
  FlagSet flags("stratus x", "X.");
  OutputFlag output(flags, table);
  Argv a(std::move(words));
  *code = -1;
  EXPECT_TRUE(ParseFlags(flags, a.argc(), a.argv(), code));
  if (!output.Resolve(flags, code)) return Output::kLines;
  *code = 0;
  return output.format();
}

TEST(OutputFlagTest, ParsesTheThreeFormats) {
  int code;
  EXPECT_EQ(Parse({"x"}, true, &code), Output::kLines);
  EXPECT_EQ(Parse({"x", "--output", "json"}, true, &code), Output::kJson);
  EXPECT_EQ(Parse({"x", "--output=table"}, true, &code), Output::kTable);
  EXPECT_EQ(code, 0);
  Parse({"x", "--output", "yaml"}, true, &code);
  EXPECT_EQ(code, kExitUsage);
  Parse({"x", "--output", "table"}, /*table=*/false, &code);
  EXPECT_EQ(code, kExitUsage);
}

TEST(TableTest, PadsColumnsToTheWidestCell) {
  Table t({"NAME", "STATE"});
  t.Add({"objects", "READY"});
  t.Add({"faces-long-name", "FAILED"});
  std::ostringstream out;
  t.Print(out);
  EXPECT_EQ(out.str(),
            "NAME             STATE\n"
            "objects          READY\n"
            "faces-long-name  FAILED\n");
}

TEST(ProtoJsonTest, IsTheProtobufMappingOnOneLine) {
  v1::ModelInfo m;
  m.set_name("objects");
  m.set_state(v1::ModelInfo::READY);
  m.set_max_batch_size(8);
  const std::string j = ProtoJson(m);
  EXPECT_THAT(j, HasSubstr("\"name\":\"objects\""));
  EXPECT_THAT(j, HasSubstr("\"state\":\"READY\""));
  EXPECT_THAT(j, HasSubstr("\"max_batch_size\":8"));
  EXPECT_EQ(j.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace stratus::cli
