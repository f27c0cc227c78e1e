#include "common/service_main.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/testing/log_capture.h"

namespace stratus {
namespace {

using ::stratus::testing_util::StderrOf;
using ::testing::ElementsAre;

// argv for Run(): the binary name, then `args`.
class Argv {
 public:
  explicit Argv(std::vector<std::string> args) : args_(std::move(args)) {
    args_.insert(args_.begin(), "stratus-test");
    for (std::string& a : args_) ptrs_.push_back(a.data());
  }
  int argc() { return static_cast<int>(ptrs_.size()); }
  char** argv() { return ptrs_.data(); }

 private:
  std::vector<std::string> args_;
  std::vector<char*> ptrs_;
};

std::string EmptyKeysFile() {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("service_main_test_keys_" + std::to_string(getpid())))
                               .string();
  std::ofstream(path) << "";
  return path;
}

// Loopback, any free ports, an (empty) keys file: what every run below needs.
std::vector<std::string> BaseFlags() {
  return {"--grpc-port=0", "--http-port=0", "--api-keys-file=" + EmptyKeysFile()};
}

ServiceSpec Spec() {
  return {.binary = "stratus-test", .summary = "test", .defaults = {"test", 0, 0}};
}

// Appends its name to `log` when destroyed.
struct Tracer {
  Tracer(std::string name, std::vector<std::string>* log) : name(std::move(name)), log(log) {}
  ~Tracer() { log->push_back("~" + name); }
  std::string name;
  std::vector<std::string>* log;
};

TEST(ServiceMainTest, RunsWireStartStopAndDestroysKeptObjectsNewestFirst) {
  std::vector<std::string> log;
  int own_flag = 0;
  ServiceMain main(Spec());
  main.flags().Int("own", "", &own_flag, "a flag of the service");
  std::vector<std::string> args = BaseFlags();
  args.push_back("--own=7");
  Argv a(args);
  const int code = main.Run(a.argc(), a.argv(), [&](ServiceContext& ctx) -> absl::Status {
    log.push_back("wire own=" + std::to_string(own_flag));
    EXPECT_EQ(ctx.aws_endpoint(), nullptr);  // the spec has no AWS API
    ctx.Make<Tracer>("first", &log);
    ctx.Make<Tracer>("second", &log);
    ctx.OnStarted([&] {
      log.push_back(ctx.host().grpc_port() > 0 ? "started listening" : "started not listening");
      ctx.host().Shutdown();  // as SIGTERM would, once started
    });
    ctx.OnStopped([&] { log.push_back("stopped"); });
    return absl::OkStatus();
  });
  EXPECT_EQ(code, 0);
  EXPECT_THAT(log, ElementsAre("wire own=7", "started listening", "stopped", "~second", "~first"));
}

TEST(ServiceMainTest, WiringErrorExitsTwoWithoutStarting) {
  std::vector<std::string> log;
  ServiceMain main(Spec());
  Argv a(BaseFlags());
  int code = -1;
  const std::string err = StderrOf([&] {
    code = main.Run(a.argc(), a.argv(), [&](ServiceContext& ctx) -> absl::Status {
      ctx.Make<Tracer>("kept", &log);
      ctx.OnStarted([&] { log.push_back("started"); });
      return absl::InvalidArgumentError("--threads must not be negative");
    });
  });
  EXPECT_EQ(code, 2);
  EXPECT_THAT(err, testing::HasSubstr("error: --threads must not be negative"));
  EXPECT_THAT(log, ElementsAre("~kept"));
}

TEST(ServiceMainTest, HelpAndBadFlagsNeverWire) {
  bool wired = false;
  auto wire = [&](ServiceContext&) -> absl::Status {
    wired = true;
    return absl::OkStatus();
  };
  {
    ServiceMain main(Spec());
    Argv a({"--help"});
    testing::internal::CaptureStdout();  // the usage goes to stdout
    int code = -1;
    StderrOf([&] { code = main.Run(a.argc(), a.argv(), wire); });
    EXPECT_EQ(code, 0);
    EXPECT_THAT(testing::internal::GetCapturedStdout(), testing::HasSubstr("--grpc-port"));
  }
  {
    ServiceMain main(Spec());
    Argv a({"--no-such-flag=1"});
    int code = -1;
    StderrOf([&] { code = main.Run(a.argc(), a.argv(), wire); });
    EXPECT_EQ(code, 2);
  }
  {
    ServiceSpec spec = Spec();
    spec.uses_database = true;
    ServiceMain main(spec);
    Argv a(BaseFlags());
    int code = -1;
    EXPECT_THAT(StderrOf([&] { code = main.Run(a.argc(), a.argv(), wire); }),
                testing::HasSubstr("--database-url"));
    EXPECT_EQ(code, 2);
  }
  EXPECT_FALSE(wired);
}

TEST(ServiceMainTest, AwsEndpointOnlyWithKeys) {
  for (const bool with_keys : {false, true}) {
    ServiceSpec spec = Spec();
    spec.aws_service = "rekognition";
    ServiceMain main(spec);
    std::vector<std::string> args = BaseFlags();
    if (with_keys) {
      args.push_back("--access-key-id=AKIDSERVICEMAINTEST");
      args.push_back("--secret-access-key=secret-of-the-service-main-test");
    }
    Argv a(args);
    bool has_endpoint = false;
    const int code = main.Run(a.argc(), a.argv(), [&](ServiceContext& ctx) -> absl::Status {
      has_endpoint = ctx.aws_endpoint() != nullptr;
      ctx.OnStarted([&] { ctx.host().Shutdown(); });
      return absl::OkStatus();
    });
    EXPECT_EQ(code, 0);
    EXPECT_EQ(has_endpoint, with_keys);
  }
}

TEST(ServiceMainTest, DatabaseWithoutUrlIsAnError) {
  ServiceMain main(Spec());
  Argv a(BaseFlags());
  absl::Status db_status;
  main.Run(a.argc(), a.argv(), [&](ServiceContext& ctx) -> absl::Status {
    db_status = ctx.database().status();
    ctx.OnStarted([&] { ctx.host().Shutdown(); });
    return absl::OkStatus();
  });
  EXPECT_EQ(db_status.code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace stratus
