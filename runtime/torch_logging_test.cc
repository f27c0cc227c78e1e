// LibTorch's own warnings (glog) come out as structured log records with logger=torch, and
// glog's plain stderr lines stop.
#include "runtime/torch_logging.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <regex>
#include <string>

#include "common/testing/log_capture.h"

namespace stratus::runtime {
namespace {

using testing_util::LogCapture;
using testing_util::StderrOf;

// A real LibTorch warning: an out= tensor of the wrong size is resized (Resize.cpp,
// TORCH_WARN, not once-only).
void WarnFromLibTorch() {
  auto a = torch::ones({4});
  auto out = torch::ones({2});
  torch::add_out(out, a, a);
}

const std::regex kGlogLine("(^|\n)W[0-9]{8} [0-9:.]+ +[0-9]+ Resize\\.cpp:[0-9]+\\]");

TEST(TorchLoggingTest, LibTorchWarningsBecomeStructuredRecords) {
  {
    // Before routing: glog's own line on stderr, nothing in the structured log.
    LogCapture logs;
    std::string err = StderrOf(WarnFromLibTorch);
    EXPECT_TRUE(std::regex_search(err, kGlogLine)) << err;
    EXPECT_TRUE(logs.WithField("logger", "torch").empty());
  }
  RouteTorchLogsToStructuredLog();
  RouteTorchLogsToStructuredLog();  // idempotent: one sink, one record per line
  LogCapture logs;
  std::string err = StderrOf(WarnFromLibTorch);
  EXPECT_FALSE(std::regex_search(err, kGlogLine)) << err;
  auto records = logs.WithField("logger", "torch");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].level, LogLevel::kWarning);
  EXPECT_NE(records[0].message.find("was resized"), std::string::npos) << records[0].message;
  // The structured line itself is on stderr, in the logger's format.
  EXPECT_NE(err.find("was resized"), std::string::npos) << err;
}

}  // namespace
}  // namespace stratus::runtime
