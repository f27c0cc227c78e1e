#include "cli/command.h"

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "common/status.h"
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
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), kExitOk);
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("down")), kExitUnavailable);
  EXPECT_EQ(ExitCodeFor(absl::DeadlineExceededError("slow")), kExitUnavailable);
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("bad")), kExitFailed);
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("gone")), kExitFailed);
  EXPECT_EQ(CodeName(absl::StatusCode::kInvalidArgument), "INVALID_ARGUMENT");
}

TEST(ReportErrorTest, NamesTheReasonOrElseTheCode) {
  testing::internal::CaptureStderr();
  EXPECT_EQ(ReportError(WithReason(absl::NotFoundError("collection x does not exist"),
                                   "ResourceNotFoundException"),
                        "list-faces"),
            kExitFailed);
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "error: list-faces: ResourceNotFoundException: collection x does not exist\n");
  testing::internal::CaptureStderr();
  EXPECT_EQ(ReportError(absl::UnavailableError("connection refused")), kExitUnavailable);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "error: UNAVAILABLE: connection refused\n");
}

TEST(ClientFlagsTest, EndpointFromFlagElseEnvironmentElseTheServicesPort) {
  {
    FlagSet flags("stratus x", "X.");
    ClientFlags client(flags, kMaskDefaults);
    Argv a({"x"});
    ASSERT_TRUE(flags.Parse(a.argc(), a.argv()).ok());
    EXPECT_EQ(client.endpoint(), "localhost:50054");
    EXPECT_FALSE(client.timeout().has_value());
  }
  setenv("STRATUS_MASK_ADDR", "mask.internal:9000", 1);
  {
    FlagSet flags("stratus x", "X.");
    ClientFlags client(flags, kMaskDefaults);
    Argv a({"x"});
    ASSERT_TRUE(flags.Parse(a.argc(), a.argv()).ok());
    EXPECT_EQ(client.endpoint(), "mask.internal:9000");
  }
  {
    FlagSet flags("stratus x", "X.");
    ClientFlags client(flags, kMaskDefaults);
    Argv a({"x", "--endpoint", "10.0.0.1:1", "--timeout-ms", "1500"});
    ASSERT_TRUE(flags.Parse(a.argc(), a.argv()).ok());
    EXPECT_EQ(client.endpoint(), "10.0.0.1:1");
    EXPECT_EQ(client.timeout(), std::chrono::milliseconds(1500));
  }
  unsetenv("STRATUS_MASK_ADDR");
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
